import { row } from './lib/report.js';
import { type ScenarioResult, withService } from './lib/scenario.js';
import { ms, summarize } from './lib/stats.js';

export interface AckOptions {
  readonly frames: number;
  /** T of the answers the burst sets off (they run while later frames are acked). */
  readonly runMs: number;
}

export const ACK_DEFAULTS: AckOptions = { frames: 500, runMs: 800 };

/**
 * A burst of 500 chat frames from 500 conversations, pushed in one go: each frame's ack latency
 * (frame written by the gateway fake → ack received by it). The answers the burst sets off run
 * meanwhile (MAX_CONCURRENT_RUNS = 250), as they would in a real burst.
 */
export async function ackLatency(o: AckOptions = ACK_DEFAULTS): Promise<ScenarioResult> {
  return withService(o.runMs, { MAX_CONCURRENT_RUNS: '250' }, async (fake) => {
    // Warm the path once (first frame compiles the handlers).
    const warm = fake.push('cid-ack-warm', 'warm-up');
    await fake.ack(warm);
    const ids = Array.from({ length: o.frames }, (_, i) => fake.push(`cid-ack-${i}`, `ack burst ${i}`));
    const acks = await Promise.all(ids.map((id) => fake.ack(id, 30_000)));
    const lat = acks.map((at, i) => at - fake.pushedAt(ids[i]!)!);
    const s = summarize(lat);
    const section = `5. Ack latency, burst of ${o.frames} chat frames (answers with T = ${o.runMs} ms run meanwhile)`;
    return {
      rows: [
        row(section, 'ack latency p50', ms(s.p50)),
        row(section, 'ack latency p99', ms(s.p99), '< 20 ms', s.p99 < 20),
        row(section, 'ack latency max / all acked in', `${ms(s.max)} / ${ms(Math.max(...acks) - fake.pushedAt(ids[0]!)!)}`),
      ],
      details: { ...o, latency: s },
    };
  });
}
