import { row, type Row } from './lib/report.js';
import { type ScenarioResult, withService } from './lib/scenario.js';
import { ms, type Summary, summarize } from './lib/stats.js';

export interface AckOptions {
  readonly frames: number;
  /** T of the answers the burst sets off (they run while later frames are acked). */
  readonly runMs: number;
}

export const ACK_DEFAULTS: AckOptions = { frames: 500, runMs: 800 };

/**
 * A burst of 500 chat frames from 500 conversations, pushed in one go: each frame's ack latency
 * (frame written by the gateway fake → ack received by it). Measured twice: with the answers the
 * burst sets off starting meanwhile (MAX_CONCURRENT_RUNS = 250, as in a real burst), and with
 * them held back (MAX_CONCURRENT_RUNS = 1), which leaves the ack path alone: parse, ledger, ack.
 */
export async function ackLatency(o: AckOptions = ACK_DEFAULTS): Promise<ScenarioResult> {
  const busy = await burst(o, 250);
  const quiet = await burst(o, 1);
  const section = `5. Ack latency, burst of ${o.frames} chat frames from ${o.frames} conversations (T = ${o.runMs} ms)`;
  const rows: Row[] = [
    row(section, 'ack latency p50, answers starting meanwhile', ms(busy.latency.p50)),
    row(section, 'ack latency p99, answers starting meanwhile', ms(busy.latency.p99), '< 20 ms', busy.latency.p99 < 20),
    row(section, 'last frame acked after', ms(busy.allAckedMs)),
    row(section, 'ack latency p50 / p99, answers held back (MAX_CONCURRENT_RUNS=1)', `${ms(quiet.latency.p50)} / ${ms(quiet.latency.p99)}`),
  ];
  return { rows, details: { ...o, busy, quiet } };
}

async function burst(o: AckOptions, maxRuns: number): Promise<{ latency: Summary; allAckedMs: number }> {
  return withService(o.runMs, { MAX_CONCURRENT_RUNS: String(maxRuns), ANSWER_TIMEOUT_SECONDS: '5' }, async (fake) => {
    const warm = fake.push('cid-ack-warm', 'warm-up'); // the first frame compiles the handlers
    await fake.ack(warm);
    const ids = Array.from({ length: o.frames }, (_, i) => fake.push(`cid-ack-${i}`, `ack burst ${i}`));
    const acks = await Promise.all(ids.map((id) => fake.ack(id, 30_000)));
    const first = fake.pushedAt(ids[0]!)!;
    return { latency: summarize(acks.map((at, i) => at - fake.pushedAt(ids[i]!)!)), allAckedMs: Math.max(...acks) - first };
  });
}
