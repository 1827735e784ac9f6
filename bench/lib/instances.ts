import { randomBytes } from 'node:crypto';
import { AskClient, pool } from './ask-client.js';
import type { BenchFake } from './fake.js';
import { startUpChecksDone } from './scenario.js';
import { type BenchService, benchEnv, startService } from './service.js';
import { summarize, type Summary } from './stats.js';

/** Several service processes on one Redis (as two PM2 instances run), against one fake. */
export interface BenchInstances {
  readonly services: BenchService[];
  readonly env: Record<string, string>;
  /** Starts one more instance on the same store. */
  add(): Promise<BenchService>;
  stop(): Promise<void>;
}

export async function startInstances(fake: BenchFake, redisUrl: string, count: number, overrides: Record<string, string> = {}): Promise<BenchInstances> {
  const env = benchEnv(fake, { SESSION_STORAGE: redisUrl, REDIS_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}:`, ...overrides });
  const services: BenchService[] = [];
  const add = async () => {
    const svc = await startService(env);
    services.push(svc);
    await startUpChecksDone(svc.url); // its dependency checks' calls are not measured
    return svc;
  };
  for (let i = 0; i < count; i++) await add();
  return { services, env, add, stop: async () => void (await Promise.all(services.map((s) => s.stop()))) };
}

/** The instance whose /healthz says it holds the Stream, if any. */
export async function streamHolder(services: readonly BenchService[]): Promise<BenchService | undefined> {
  for (const svc of services) {
    if (svc.child.exitCode !== null || svc.child.signalCode !== null) continue;
    const body = (await (await fetch(`${svc.url}/healthz`)).json()) as { stream?: { leader?: boolean; state?: string } };
    if (body.stream?.leader && body.stream.state === 'connected') return svc;
  }
  return undefined;
}

export interface SpreadThroughput {
  readonly answered: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly latency: Summary;
  /** CPU of all service processes together, in cores. */
  readonly serviceCores: number;
}

/**
 * `/assistant/ask` follow-ups per second with `inFlight` conversations spread over the
 * instances (worker i asks instance i mod n, as a round-robin proxy would), for `durationMs`.
 */
export async function spreadThroughput(services: readonly BenchService[], inFlight: number, durationMs: number): Promise<SpreadThroughput> {
  const clients = services.map((s) => new AskClient(s.url, inFlight));
  const clientOf = (w: number) => clients[w % clients.length]!;
  try {
    const sessions = await pool(inFlight, inFlight, async (w) => (await clientOf(w).askOk(`spread warm-up ${w}`)).sessionId);
    const latencies: number[] = [];
    let failed = 0;
    let sent = 0;
    const cpu0 = services.reduce((sum, s) => sum + s.cpuSeconds(), 0);
    const started = performance.now();
    const end = started + durationMs;
    await Promise.all(
      Array.from({ length: inFlight }, async (_, w) => {
        while (performance.now() < end && sent < 50_000) {
          const r = await clientOf(w).ask(`spread ${sent++}`, sessions[w]);
          if (r.status === 200) latencies.push(r.ms);
          else failed++;
        }
      }),
    );
    const wallS = (performance.now() - started) / 1000;
    const cores = (services.reduce((sum, s) => sum + s.cpuSeconds(), 0) - cpu0) / wallS;
    return { answered: latencies.length, failed, perSecond: latencies.length / wallS, latency: summarize(latencies), serviceCores: cores };
  } finally {
    for (const c of clients) c.close();
  }
}

export interface SpreadBurst {
  /** Until the last answer; Infinity when not all were answered within the limit. */
  readonly wallMs: number;
  readonly answered: number;
  readonly asked: number;
  readonly sessions: string[];
}

/** `n` questions at once, spread over the instances; follow-ups when `sessions` are given. */
export async function spreadBurst(services: readonly BenchService[], n: number, sessions: readonly string[], limitMs: number): Promise<SpreadBurst> {
  const clients = services.map((s) => new AskClient(s.url, n));
  try {
    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => clients[i % clients.length]!.ask(`burst ${i}`, sessions[i], limitMs).catch(() => undefined)),
    );
    const elapsed = performance.now() - started;
    const ok = replies.filter((r) => r?.status === 200);
    const wallMs = ok.length === n ? elapsed : Number.POSITIVE_INFINITY;
    return { wallMs, answered: ok.length, asked: n, sessions: replies.map((r) => r?.sessionId ?? '') };
  } finally {
    for (const c of clients) c.close();
  }
}
