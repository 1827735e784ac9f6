import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineInfo } from './machine.js';
import { summarize } from './lib/stats.js';

/**
 * `npx tsx bench/demo-startup.ts [runs]`: how fast `npm run demo` is usable. Each run spawns the
 * demo as `npm run demo` does (tsx, no build) from an empty folder, times until the page URL is
 * printed and the page answers, then sends direct messages through the page's API and times
 * until the bot acked each (the Stream path) and until its answer is in the chat (which includes
 * the demo backend's deliberate typing pace of 5 × 300 ms), then times the stop on SIGINT.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.argv[2] ?? 5);
const QUESTIONS = 10;

interface RunFigures {
  readyMs: number;
  ackMs: number[];
  answerMs: number[];
  stopMs: number;
}

async function oneRun(): Promise<RunFigures> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'demo-bench-'));
  const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', loader, path.join(ROOT, 'src/demo/run-demo.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', DEMO_PORT: '0', PORT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pageUrl = await printedUrl(child);
  await fetch(pageUrl);
  const readyMs = performance.now() - started;
  const figures: RunFigures = { readyMs, ackMs: [], answerMs: [], stopMs: 0 };
  for (let i = 0; i < QUESTIONS; i++) await ask(pageUrl, `question ${i}`, figures);
  const stopping = performance.now();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
  figures.stopMs = performance.now() - stopping;
  return figures;
}

async function ask(pageUrl: string, text: string, figures: RunFigures): Promise<void> {
  const setup = (await (await fetch(new URL('demo-api/setup', pageUrl))).json()) as { conversations: Array<{ id: string; kind: string; memberIds: string[] }> };
  const dm = setup.conversations.find((c) => c.kind === 'direct')!;
  const since = ((await (await fetch(new URL('demo-api/updates?since=0&wait=0', pageUrl))).json()) as { rev: number }).rev;
  const t0 = performance.now();
  const res = await fetch(new URL('demo-api/messages', pageUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ conversationId: dm.id, senderId: dm.memberIds[0], text }),
  });
  const { message } = (await res.json()) as { message: { id: string } };
  let rev = since;
  let acked = false;
  for (let polls = 0; polls < 400; polls++) {
    const changes = (await (await fetch(new URL(`demo-api/updates?since=${rev}`, pageUrl))).json()) as {
      rev: number;
      messages: Array<{ id: string; from: string; conversationId: string; delivery?: string }>;
    };
    rev = changes.rev;
    if (!acked && changes.messages.some((m) => m.id === message.id && m.delivery === 'acked')) {
      acked = true;
      figures.ackMs.push(performance.now() - t0);
    }
    if (changes.messages.some((m) => m.from === 'bot' && m.conversationId === dm.id)) {
      figures.answerMs.push(performance.now() - t0);
      return;
    }
  }
  throw new Error('no answer after 400 polls');
}

function printedUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /Open:\s+(http\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`demo exited with ${code} before printing its URL`)));
  });
}

async function main(): Promise<void> {
  const m = machineInfo();
  console.log(`machine: ${m.cpuModel}, ${m.cores} cores, node ${m.node}, commit ${m.commit}; ${RUNS} runs × ${QUESTIONS} questions`);
  const runs: RunFigures[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await oneRun());
  const row = (name: string, values: number[]) => {
    const s = summarize(values);
    console.log(`${name.padEnd(44)} p50 ${s.p50.toFixed(0).padStart(6)} ms   max ${s.max.toFixed(0).padStart(6)} ms   (n=${s.n})`);
  };
  row('start → page URL printed and page answers', runs.map((r) => r.readyMs));
  row('message sent → acked by the bot (Stream)', runs.flatMap((r) => r.ackMs));
  row('message sent → answer in the chat', runs.flatMap((r) => r.answerMs));
  row('SIGINT → process exited', runs.map((r) => r.stopMs));
}

await main();
