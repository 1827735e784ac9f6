import path from 'node:path';
import { abuse } from './abuse.js';
import { ackLatency } from './ack-latency.js';
import { calls } from './calls.js';
import { chatLimits } from './chat-limits.js';
import { cards } from './cards.js';
import { concurrency } from './concurrency.js';
import { machineInfo } from './machine.js';
import { overhead } from './overhead.js';
import { policyOverhead } from './policy-overhead.js';
import { reconnect } from './reconnect.js';
import { resourcesAndThroughput } from './resources.js';
import { scale } from './scale.js';
import { markdownTable, printTable, type Row, writeResults } from './lib/report.js';
import { MODEL_MODES, MODES, type ScenarioResult, withService } from './lib/scenario.js';
import { compileService } from './lib/service.js';
import { chatThroughput, httpThroughput, THROUGHPUT_DEFAULTS, throughputRows } from './throughput.js';

/**
 * `npm run bench [-- name ...]`: runs the scenarios in order (all by default), prints one table
 * with each figure's target and PASS/MISS, and writes bench/results.json. Names: overhead,
 * calls, concurrency, throughput (with resources), ack, reconnect, cards, policy, chat-limits, abuse, scale (Redis,
 * several instances, failover; needs Debian's redis-server). Environment: BENCH_LOG_LEVEL
 * (service log level, default warn), BENCH_RESULTS (output file), BENCH_SERVICE_ROOT (benchmark
 * another tree's src/, e.g. a copy with a candidate fix).
 */
const SCENARIOS: Record<string, () => Promise<ScenarioResult[]>> = {
  overhead: () => sequence([...MODES, ...MODEL_MODES].map((m) => () => overhead(m))),
  calls: () => sequence(MODES.map((m) => () => calls(m))),
  concurrency: () => concurrencyAllBackends(),
  throughput: () => sequence([() => resourcesAndThroughput(), pollingThroughput]),
  ack: () => sequence([() => ackLatency()]),
  reconnect: () => sequence([() => reconnect()]),
  cards: () => sequence([() => cards()]),
  policy: () => sequence([() => policyOverhead()]),
  scale: () => sequence([() => scale()]),
  'chat-limits': () => sequence([() => chatLimits()]),
  abuse: () => sequence([() => abuse()]),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const machine = machineInfo();
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memory}, node ${machine.node}, commit ${machine.commit}`);
  const started = performance.now();
  log(`compiling the service (tsc → bench/.build) in ${Math.round(compileService())} ms`);
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  for (const name of names) {
    const t = performance.now();
    log(`running ${name}…`);
    const results = await SCENARIOS[name]!();
    results.forEach((r, i) => {
      rows.push(...r.rows);
      details[`${name}${results.length > 1 ? `.${i}` : ''}`] = r.details;
    });
    log(`${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const totalS = (performance.now() - started) / 1000;
  printTable(rows);
  log(`\ntotal ${totalS.toFixed(1)} s; log level ${process.env.BENCH_LOG_LEVEL ?? 'warn'}`);
  const file = path.resolve(process.env.BENCH_RESULTS ?? path.join(import.meta.dirname, 'results.json'));
  writeResults(file, { ranAt: new Date().toISOString(), totalSeconds: totalS, machine, rows, markdown: markdownTable(rows), details });
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function sequence(steps: Array<() => Promise<ScenarioResult>>): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const step of steps) out.push(await step());
  return out;
}

/** The 200-bursts for each backend; the model backends' are compared with streaming's, same run. */
async function concurrencyAllBackends(): Promise<ScenarioResult[]> {
  const results = await sequence(MODES.map((m) => () => concurrency(m)));
  const streaming = results[0]!.details as Record<string, { wallMs: number }>;
  const reference = Object.fromEntries(Object.entries(streaming).map(([k, v]) => [k, v.wallMs]));
  for (const mode of MODEL_MODES) results.push(await concurrency(mode, undefined, reference));
  return results;
}

/** Section 4 with polling (information: a polled answer waits for the first poll, 100 ms). */
async function pollingThroughput(): Promise<ScenarioResult> {
  return withService(0, { ASSISTANT_STREAMING: 'false' }, async (fake, svc) => {
    const http = await httpThroughput(svc);
    const chat = await chatThroughput(fake, svc);
    return { rows: throughputRows('poll', THROUGHPUT_DEFAULTS, http, chat), details: { http, chat } };
  });
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
