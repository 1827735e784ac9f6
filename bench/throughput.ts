import { AskClient, pool } from './lib/ask-client.js';
import { answerTo, type BenchFake } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import type { Mode } from './lib/scenario.js';
import { modeLabel } from './lib/scenario.js';
import type { BenchService } from './lib/service.js';
import { ms, round, summarize, type Summary } from './lib/stats.js';

export interface ThroughputOptions {
  /** Requests (or frames) in flight at any moment. */
  readonly inFlight: number;
  /** How long each measurement runs (ms); also bounded by `maxRequests`. */
  readonly durationMs: number;
  readonly maxRequests: number;
}

export const THROUGHPUT_DEFAULTS: ThroughputOptions = { inFlight: 64, durationMs: 6_000, maxRequests: 50_000 };

export interface ThroughputFigure {
  readonly answered: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly latency: Summary;
  /** CPU used by the service and by this process (fake + load generator), in cores. */
  readonly serviceCores: number;
  readonly benchCores: number;
}

/**
 * Answered `/assistant/ask` follow-ups per second with T = 0: `inFlight` conversations each ask
 * again as soon as answered, for `durationMs`. The fake must run with runDurationMs = 0.
 */
export async function httpThroughput(svc: BenchService, o: ThroughputOptions = THROUGHPUT_DEFAULTS): Promise<ThroughputFigure> {
  const client = new AskClient(svc.url, o.inFlight);
  try {
    const sessions = await pool(o.inFlight, o.inFlight, async (i) => (await client.askOk(`tp warm-up ${i}`)).sessionId);
    let failed = 0;
    return await measure(svc, o, async (i, sent) => {
      const r = await client.ask(`tp ${sent}`, sessions[i]);
      if (r.status !== 200) failed++;
      return { ok: r.status === 200, ms: r.ms };
    }, () => failed);
  } finally {
    client.close();
  }
}

/** Answered chat frames per second with T = 0: `inFlight` DM conversations, push → reply → push. */
export async function chatThroughput(fake: BenchFake, svc: BenchService, o: ThroughputOptions = THROUGHPUT_DEFAULTS): Promise<ThroughputFigure> {
  await pool(o.inFlight, o.inFlight, async (i) => {
    fake.push(`cid-tp-${i}`, `tp warm-up ${i}`);
    await fake.reply(`cid-tp-${i}`, answerTo(`tp warm-up ${i}`));
  });
  fake.trim();
  return measure(svc, o, async (i, sent) => {
    const cid = `cid-tp-${i}`;
    const text = `tp ${sent}`;
    const id = fake.push(cid, text);
    const at = await fake.reply(cid, answerTo(text));
    if (sent % 2_000 === 0) fake.trim();
    return { ok: true, ms: at - (fake.pushedAt(id) ?? at) };
  }, () => 0);
}

async function measure(
  svc: BenchService,
  o: ThroughputOptions,
  once: (worker: number, sent: number) => Promise<{ ok: boolean; ms: number }>,
  failures: () => number,
): Promise<ThroughputFigure> {
  const latencies: number[] = [];
  let sent = 0;
  const cpu0 = svc.cpuSeconds();
  const self0 = process.cpuUsage();
  const started = performance.now();
  const end = started + o.durationMs;
  await Promise.all(
    Array.from({ length: o.inFlight }, async (_, w) => {
      while (performance.now() < end && sent < o.maxRequests) {
        const r = await once(w, sent++);
        if (r.ok) latencies.push(r.ms);
      }
    }),
  );
  const wallS = (performance.now() - started) / 1000;
  const self = process.cpuUsage(self0);
  return {
    answered: latencies.length,
    failed: failures(),
    perSecond: latencies.length / wallS,
    latency: summarize(latencies),
    serviceCores: (svc.cpuSeconds() - cpu0) / wallS,
    benchCores: (self.user + self.system) / 1e6 / wallS,
  };
}

export function throughputRows(mode: Mode, o: ThroughputOptions, http: ThroughputFigure, chat: ThroughputFigure): Row[] {
  const section = `4. Throughput, T = 0, ${modeLabel(mode)}, ${o.inFlight} in flight, ${o.durationMs / 1000} s each (2 cores shared)`;
  const target = mode === 'stream' ? '≥ 1000/s' : undefined;
  const fig = (f: ThroughputFigure) => `${Math.round(f.perSecond)}/s`;
  const detail = (f: ThroughputFigure) =>
    `p50 ${ms(f.latency.p50)}, p99 ${ms(f.latency.p99)}; CPU: service ${round(f.serviceCores, 2)} cores, fake+load ${round(f.benchCores, 2)}; ${f.failed} failed`;
  return [
    row(section, '/assistant/ask answered per second', fig(http), target, target ? http.perSecond >= 1000 : undefined),
    row(section, '/assistant/ask latency and CPU', detail(http)),
    row(section, 'chat frames answered per second', fig(chat), target, target ? chat.perSecond >= 1000 : undefined),
    row(section, 'chat latency and CPU', detail(chat)),
  ];
}
