import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { floodWith404s, type FloodResult } from '../test/helpers/http-flood.js';
import { todaysLogFile } from '../test/helpers/log-files.js';
import { openIdleConnections } from '../test/helpers/raw-http.js';
import { AskClient } from './lib/ask-client.js';
import { answerTo, type BenchFake } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import { type ScenarioResult, withService } from './lib/scenario.js';
import type { BenchService } from './lib/service.js';
import { ms, summarize } from './lib/stats.js';

export interface AbuseOptions {
  /** How long the 404 flood lasts (the issue: 20 s). */
  readonly floodMs: number;
  readonly floodConnections: number;
  readonly urlLength: number;
  /** T of every answer in the fair-share run. */
  readonly runMs: number;
  /** HTTP questions kept in flight while students chat (the issue: 45). */
  readonly httpInFlight: number;
  /** Chat questions timed, one after the other, quiet and under load. */
  readonly chatQuestions: number;
  /** Idle connections opened at once (the issue: 15,000). */
  readonly connections: number;
}

export const ABUSE_DEFAULTS: AbuseOptions = {
  floodMs: 20_000,
  floodConnections: 4,
  urlLength: 4096,
  runMs: 1_000,
  httpInFlight: 45,
  chatQuestions: 15,
  connections: 15_000,
};

const SECTION_FLOOD = 'Abuse: 404 flood, 4 KB URLs, LOG_FILE set';
const SECTION_FAIR = 'Abuse: chat while 45 HTTP questions run';
const SECTION_CONNECTIONS = 'Abuse: 15,000 idle connections';

/**
 * The attacks issue 13 measured, as figures: (1) RSS and survival of the compiled service
 * (`npm start`'s heap flags) under a 20 s flood of 404s with 4 KB URLs over 4 connections,
 * LOG_FILE on the real disk and on a disk that stalls (a FIFO read at 320 KB/s); (2) the
 * service's file descriptors while 15,000 idle connections are opened at once; (3) a student's
 * chat answer latency alone and while 45 HTTP questions keep every HTTP share of
 * MAX_CONCURRENT_RUNS busy, with the default shares and with none (what the shares buy).
 */
export async function abuse(o: AbuseOptions = ABUSE_DEFAULTS): Promise<ScenarioResult> {
  const disk = await floodRun(o, 'disk');
  const stalled = await floodRun(o, 'stalled');
  const connections = await connectionFlood(o);
  const fair = await chatUnderLoad(o, {});
  const unshared = await chatUnderLoad(o, { CHAT_RUN_SHARE: '0', HTTP_RUN_SHARE: '0' });
  const rows: Row[] = [...floodRows(disk, 'disk'), ...floodRows(stalled, 'stalled disk')];
  const ratio = fair.loaded.p50 / fair.quiet.p50;
  const ratioUnshared = unshared.loaded.p50 / unshared.quiet.p50;
  rows.push(
    row(SECTION_FAIR, 'chat answer p50, quiet', ms(fair.quiet.p50)),
    row(SECTION_FAIR, 'chat answer p50, 45 HTTP in flight (shares 50/25 %)', ms(fair.loaded.p50)),
    row(SECTION_FAIR, 'ratio loaded / quiet (default shares)', ratio.toFixed(2), '≤ 1.20', ratio <= 1.2),
    row(SECTION_FAIR, 'ratio loaded / quiet (CHAT_RUN_SHARE=0, HTTP_RUN_SHARE=0)', ratioUnshared.toFixed(2)),
    row(SECTION_FAIR, 'HTTP questions answered meanwhile (default shares)', String(fair.httpAnswered)),
    row(SECTION_CONNECTIONS, `service file descriptors, most seen (${o.connections} opened, cap 1000)`, String(connections.maxFds), '< 1,300', connections.maxFds < 1_300),
    row(SECTION_CONNECTIONS, 'alive, and answering once they are gone', connections.answering ? 'yes' : 'no', 'yes', connections.answering),
  );
  return { rows, details: { flood: { disk, stalled }, connections, fairShare: { shares: fair, none: unshared } } };
}

interface FloodFigures {
  readonly floodMs: number;
  readonly flood: FloodResult;
  readonly alive: boolean;
  readonly rssStartMb: number;
  readonly rssMaxMb: number;
  readonly rssEndMb: number;
  readonly droppedLines: number;
  readonly logBytes: number;
}

async function floodRun(o: AbuseOptions, disk: 'disk' | 'stalled'): Promise<FloodFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-flood-log-'));
  const stall = disk === 'stalled' ? stallLogFile(dir) : undefined;
  try {
    return await withService(100, { LOG_FILE: path.join(dir, 'bridge.log'), LOG_LEVEL: 'info' }, async (_fake, svc) => {
      const rssStartMb = svc.rssMb();
      let rssMaxMb = rssStartMb;
      const sampler = setInterval(() => {
        rssMaxMb = Math.max(rssMaxMb, rssOrZero(svc));
      }, 250);
      const flood = await floodWith404s({ url: svc.url, connections: o.floodConnections, durationMs: o.floodMs, pathLength: o.urlLength });
      clearInterval(sampler);
      const alive = svc.child.exitCode === null && svc.child.signalCode === null;
      const rssEndMb = alive ? rssOrZero(svc) : Number.NaN;
      stall?.release();
      await new Promise((r) => setTimeout(r, 1_500)); // the backlog drains; the dropped-lines line is written
      return { floodMs: o.floodMs, flood, alive, rssStartMb, rssMaxMb, rssEndMb, ...logFigures(dir, stall?.text()) };
    });
  } finally {
    stall?.close();
  }
}

/** The service's RSS, or 0 once it is gone (a crash under the flood is a result, not an error). */
function rssOrZero(svc: BenchService): number {
  try {
    return svc.rssMb();
  } catch {
    return 0;
  }
}

/** Today's log file as a FIFO read at 320 KB/s until `release` (then read as fast as it comes). */
function stallLogFile(dir: string): { release(): void; text(): string; close(): void } {
  const file = todaysLogFile(dir);
  execFileSync('mkfifo', [file]);
  let slow = true;
  let text = '';
  const reader = createReadStream(file, { encoding: 'utf8', highWaterMark: 16 * 1024 });
  reader.on('data', (chunk) => {
    // Only the report lines matter; the rest is counted by size.
    text += (chunk as string).split('\n').filter((l) => l.includes('could not keep up')).join('\n');
    if (!slow) return;
    reader.pause();
    setTimeout(() => reader.resume(), 50);
  });
  reader.on('error', () => undefined);
  return {
    release: () => {
      slow = false;
      reader.resume();
    },
    text: () => text,
    close: () => reader.destroy(),
  };
}

function logFigures(dir: string, fifoText: string | undefined): { droppedLines: number; logBytes: number } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  const texts = fifoText !== undefined ? [fifoText] : files.map((f) => readFileSync(path.join(dir, f), 'utf8'));
  const droppedLines = texts
    .flatMap((t) => [...t.matchAll(/"droppedLines":(\d+)/g)])
    .reduce((n, m) => n + Number(m[1]), 0);
  const logBytes = fifoText !== undefined ? Number.NaN : texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  return { droppedLines, logBytes };
}

function floodRows(f: FloodFigures, disk: string): Row[] {
  const responses = Object.values(f.flood.statuses).reduce((n, c) => n + c, 0);
  return [
    row(SECTION_FLOOD, `alive after the flood (${disk})`, f.alive ? 'yes' : 'no', 'yes', f.alive),
    row(SECTION_FLOOD, `max RSS during the flood (${disk})`, `${f.rssMaxMb.toFixed(0)} MB`, '< 200 MB', f.rssMaxMb < 200),
    row(SECTION_FLOOD, `RSS before → after (${disk})`, `${f.rssStartMb.toFixed(0)} → ${f.rssEndMb.toFixed(0)} MB`),
    row(SECTION_FLOOD, `responses: 404 / 429 (${disk})`, `${f.flood.statuses[404] ?? 0} / ${f.flood.statuses[429] ?? 0} of ${responses} (${Math.round(responses / (f.floodMs / 1000))}/s)`),
    row(SECTION_FLOOD, `log lines dropped and counted (${disk})`, String(f.droppedLines)),
  ];
}

/** Opens `connections` idle connections at once against the default cap; counts the service's descriptors. */
async function connectionFlood(o: AbuseOptions): Promise<{ baselineFds: number; maxFds: number; answering: boolean }> {
  return withService(100, {}, async (_fake, svc) => {
    const fds = () => readdirSync(`/proc/${svc.pid}/fd`).length;
    const baselineFds = fds();
    let maxFds = baselineFds;
    const sampler = setInterval(() => {
      try {
        maxFds = Math.max(maxFds, fds());
      } catch {
        // gone
      }
    }, 100);
    const sockets = await openIdleConnections(svc.url, o.connections);
    await new Promise((r) => setTimeout(r, 2_000));
    clearInterval(sampler);
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const answering = (await fetch(`${svc.url}/healthz`).then((r) => r.status).catch(() => 0)) === 200;
    return { baselineFds, maxFds, answering };
  });
}

interface LoadFigures {
  readonly quiet: ReturnType<typeof summarize>;
  readonly loaded: ReturnType<typeof summarize>;
  readonly httpAnswered: number;
}

/** Chat latency alone, then while `httpInFlight` HTTP questions are kept running. */
async function chatUnderLoad(o: AbuseOptions, shares: Record<string, string>): Promise<LoadFigures> {
  const env = { MAX_CONCURRENT_RUNS: '20', ...shares };
  return withService(o.runMs, env, async (fake, svc) => {
    const quiet = await chatLatencies(fake, o.chatQuestions, 'quiet');
    const load = keepHttpBusy(svc, o.httpInFlight);
    await new Promise((r) => setTimeout(r, o.runMs)); // the HTTP questions hold their runs
    const loaded = await chatLatencies(fake, o.chatQuestions, 'loaded');
    const httpAnswered = await load.stop();
    return { quiet: summarize(quiet), loaded: summarize(loaded), httpAnswered };
  });
}

async function chatLatencies(fake: BenchFake, n: number, tag: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const cid = `cid-fair-${tag}-${i}`;
    const text = `fair ${tag} ${i}`;
    const at = fake.pushedAt(fake.push(cid, text))!;
    latencies.push((await fake.reply(cid, answerTo(text), 30_000)) - at);
  }
  return latencies;
}

/** Keeps `n` HTTP questions in flight (a new one as each ends) until `stop`. */
function keepHttpBusy(svc: BenchService, n: number): { stop(): Promise<number> } {
  const client = new AskClient(svc.url, n + 5);
  let running = true;
  let answered = 0;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const r = await client.ask(`http ${w} ${i}`, undefined, 30_000).catch(() => undefined);
      if (r?.status === 200) answered++;
    }
  };
  const workers = Array.from({ length: n }, (_, w) => worker(w));
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      client.close();
      return answered;
    },
  };
}
