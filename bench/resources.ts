import { AskClient } from './lib/ask-client.js';
import { createLogger, SecretRedactor } from '../src/logger.js';
import type { ConversationKey } from '../src/engine/conversation-key.js';
import { openStorage } from '../src/storage/open-storage.js';
import { type BenchFake, startBenchFake } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import type { ScenarioResult } from './lib/scenario.js';
import { type BenchService, benchEnv, startService, tempStorageFile } from './lib/service.js';
import { ms, round, summarize } from './lib/stats.js';
import { chatThroughput, httpThroughput, type ThroughputFigure, THROUGHPUT_DEFAULTS, throughputRows } from './throughput.js';

export interface ResourceOptions {
  readonly sessions: number;
  /** Bound on the time spent creating sessions through the service. */
  readonly fillBudgetMs: number;
  readonly fillInFlight: number;
  readonly lookups: number;
  readonly startups: number;
}

export const RESOURCE_DEFAULTS: ResourceOptions = { sessions: 10_000, fillBudgetMs: 20_000, fillInFlight: 64, lookups: 20_000, startups: 3 };
const SECTION = '6. Resources';

/**
 * One streaming service (T = 0): RSS after start, after 10,000 sessions created through
 * `/assistant/ask`, and after the throughput runs (section 4, streaming) on that same process;
 * start-up time (spawn → ready); SQLite session lookups per second through the session store.
 */
export async function resourcesAndThroughput(o: ResourceOptions = RESOURCE_DEFAULTS): Promise<ScenarioResult> {
  const fake = await startBenchFake(0);
  let svc: BenchService | undefined;
  try {
    const startups = await startupTimes(fake, o.startups);
    svc = await startService(benchEnv(fake));
    const rssStart = svc.rssMb();
    const fill = await fillSessions(svc, o);
    const rssSessions = svc.rssMb();
    const http = await httpThroughput(svc);
    const chat = await chatThroughput(fake, svc);
    const rssAfter = svc.rssMb();
    const lookups = await lookupRate(o);
    const rows: Row[] = [
      ...throughputRows('stream', THROUGHPUT_DEFAULTS, http, chat),
      ...resourceRows(o, { rssStart, rssSessions, rssAfter, fill, startups, lookups }),
    ];
    return { rows, details: { rssStart, rssSessions, rssAfter, fill, startups, lookups, throughputStream: { http, chat } } };
  } finally {
    await svc?.stop();
    await fake.close();
  }
}

/** Spawn → `ready` (compiled service, local fake, Stream connected), a few times. */
async function startupTimes(fake: BenchFake, n: number): Promise<{ compiled: number[]; tsx: number }> {
  const compiled: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = await startService(benchEnv(fake));
    compiled.push(s.startupMs);
    await s.stop();
  }
  const t = await startService(benchEnv(fake), { runtime: 'tsx' });
  await t.stop();
  return { compiled, tsx: t.startupMs };
}

interface Fill {
  readonly stored: number;
  readonly ms: number;
}

/** New conversations through `/assistant/ask` until `sessions` exist or the budget runs out. */
async function fillSessions(svc: BenchService, o: ResourceOptions): Promise<Fill> {
  const client = new AskClient(svc.url, o.fillInFlight);
  const started = performance.now();
  const end = started + o.fillBudgetMs;
  let next = 0;
  let stored = 0;
  try {
    await Promise.all(
      Array.from({ length: o.fillInFlight }, async () => {
        while (next < o.sessions && performance.now() < end) {
          const r = await client.ask(`fill ${next++}`);
          if (r.status === 200) stored++;
        }
      }),
    );
  } finally {
    client.close();
  }
  return { stored, ms: performance.now() - started };
}

interface Lookups {
  readonly sequentialPerSecond: number;
  readonly parallelPerSecond: number;
}

/** Session lookups through the service's own SessionStore (keyv + SQLite) on 10,000 sessions. */
async function lookupRate(o: ResourceOptions): Promise<Lookups> {
  const logger = createLogger({ level: 'error', redactor: new SecretRedactor(), console: false });
  const storage = await openStorage({ url: `sqlite://${tempStorageFile()}`, ledgerTtlMs: 3_600_000, logger });
  try {
    const key = (i: number) => `http:00000000-0000-4000-8000-${String(i).padStart(12, '0')}` as ConversationKey;
    for (let i = 0; i < o.sessions; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, o.sessions - i) }, (_, j) => storage.sessions.set(key(i + j), { backend: 'dingtalk-assistant', state: { threadId: `thread_${i + j}` }, lastActiveAt: Date.now() }, 1_800_000)));
    }
    const rate = async (parallel: number) => {
      const started = performance.now();
      let n = 0;
      await Promise.all(Array.from({ length: parallel }, async () => {
        while (n < o.lookups) await storage.sessions.get(key((n++ * 7919) % o.sessions));
      }));
      return o.lookups / ((performance.now() - started) / 1000);
    };
    await rate(1); // warm-up
    return { sequentialPerSecond: await rate(1), parallelPerSecond: await rate(16) };
  } finally {
    await storage.close();
  }
}

function resourceRows(
  o: ResourceOptions,
  r: { rssStart: number; rssSessions: number; rssAfter: number; fill: Fill; startups: { compiled: number[]; tsx: number }; lookups: Lookups },
): Row[] {
  const mb = (v: number) => `${round(v)} MB`;
  const start = summarize(r.startups.compiled);
  const complete = r.fill.stored >= o.sessions;
  return [
    row(SECTION, 'RSS after start', mb(r.rssStart), '< 150 MB', r.rssStart < 150),
    row(SECTION, `RSS after ${r.fill.stored} sessions stored via /assistant/ask`, mb(r.rssSessions), '< 150 MB', r.rssSessions < 150),
    row(SECTION, `sessions stored in ${ms(r.fill.ms)} (budget ${o.fillBudgetMs / 1000} s)`, String(r.fill.stored), `${o.sessions}`, complete),
    row(SECTION, 'RSS after the throughput runs', mb(r.rssAfter), '< 150 MB', r.rssAfter < 150),
    row(SECTION, `start-up, spawn → ready, compiled (median of ${start.n})`, ms(start.p50), '< 1000 ms', start.p50 < 1000),
    row(SECTION, 'start-up, spawn → ready, via tsx (npm run dev)', ms(r.startups.tsx)),
    row(SECTION, 'SQLite session lookups/s, one at a time', `${Math.round(r.lookups.sequentialPerSecond)}/s`),
    row(SECTION, 'SQLite session lookups/s, 16 concurrent', `${Math.round(r.lookups.parallelPerSecond)}/s`),
  ];
}

export type { ThroughputFigure };
