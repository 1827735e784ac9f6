import { type BenchFake, startBenchFake } from './lib/fake.js';
import { row } from './lib/report.js';
import type { ScenarioResult } from './lib/scenario.js';
import { type BenchService, benchEnv, startService } from './lib/service.js';
import { ms, summarize, until } from './lib/stats.js';

export interface ReconnectOptions {
  /** Independent services, one drop each (the backoff grows on quick repeated drops by design). */
  readonly samples: number;
}

export const RECONNECT_DEFAULTS: ReconnectOptions = { samples: 6 };

/**
 * Time from a dropped Stream socket (terminated by the gateway, no close frame) to the next
 * frame delivered and acked: reconnect delay (backoff 1 s + up to 1 s jitter), a fresh ticket,
 * the WebSocket handshake, then a frame pushed the moment the new socket is up. Also the
 * server's own "disconnect" notice, which the client answers by dialling at once.
 */
export async function reconnect(o: ReconnectOptions = RECONNECT_DEFAULTS): Promise<ScenarioResult> {
  const pairs: Array<{ fake: BenchFake; svc?: BenchService }> = [];
  try {
    for (let i = 0; i < o.samples; i++) pairs.push({ fake: await startBenchFake(0) });
    await Promise.all(pairs.map(async (p) => (p.svc = await startService(benchEnv(p.fake)))));
    const drops: number[] = [];
    const notices: number[] = [];
    for (const [i, p] of pairs.entries()) {
      drops.push(await afterDrop(p.fake, `drop ${i}`));
      notices.push(await afterNotice(p.fake, `notice ${i}`));
    }
    const d = summarize(drops);
    const n = summarize(notices);
    const section = `7. Reconnect (${o.samples} services, one drop each)`;
    return {
      rows: [
        row(section, 'dropped socket → next frame acked, median', ms(d.p50), '< 2000 ms', d.p50 < 2000),
        row(section, 'dropped socket → next frame acked, min / max', `${ms(d.min)} / ${ms(d.max)}`),
        row(section, '"disconnect" notice → next frame acked on the new socket, median', ms(n.p50)),
      ],
      details: { drops: d, notices: n, dropSamples: drops },
    };
  } finally {
    await Promise.all(pairs.map((p) => p.svc?.stop()));
    await Promise.all(pairs.map((p) => p.fake.close()));
  }
}

async function afterDrop(fake: BenchFake, text: string): Promise<number> {
  const gw = fake.fake.gateway;
  await until(() => gw.socketCount === 1, 10_000, 'a connected service');
  const before = gw.connections;
  const dropped = performance.now();
  gw.dropSocket();
  await until(() => gw.connections > before && gw.socketCount > 0, 15_000, 'the reconnect', 1);
  const id = fake.push(`cid-${text}`, text);
  return (await fake.ack(id)) - dropped;
}

async function afterNotice(fake: BenchFake, text: string): Promise<number> {
  const gw = fake.fake.gateway;
  const before = gw.connections;
  const noticed = performance.now();
  gw.sendDisconnect();
  await until(() => gw.connections > before, 15_000, 'the new connection', 1);
  const id = fake.push(`cid-${text}`, text);
  return (await fake.ack(id)) - noticed;
}
