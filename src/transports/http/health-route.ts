import type { FastifyInstance } from 'fastify';
import type { HealthChecks } from '../../health/readiness-monitor.js';

/** What `/healthz` reports besides the HTTP side itself. */
export interface HealthSource {
  /** True when the storage answers a read (used when there is no write probe). */
  storageReachable(): Promise<boolean>;
  /** Resolves once the storage took a real write (and its file is still in place); rejects otherwise. */
  storageWritable?(): Promise<void>;
  /** Stream bot state, or undefined when there is no bot in this process. */
  stream?(): Record<string, unknown>;
  /** The background dependency checks (storage, dingtalk, stream, backend) as they stand. */
  checks?(): HealthChecks;
}

/** A write that has not answered by then counts as failed (a frozen file system). */
export const HEALTH_WRITE_TIMEOUT_MS = 3_000;
/** A probe result stands this long, so frequent health checks cost one write a second at most. */
const PROBE_FRESH_MS = 1_000;

/**
 * `GET /healthz`: 200 when every dependency is fine, else 503. It probes a real write of the
 * storage itself, with a timeout of its own, so a full disk, a deleted database file or a
 * frozen file system shows within seconds instead of at the next background check.
 */
export function registerHealthRoute(app: FastifyInstance, health: HealthSource, writeTimeoutMs = HEALTH_WRITE_TIMEOUT_MS): void {
  const probe = health.storageWritable && writeProbe(health.storageWritable, writeTimeoutMs);
  // With a write probe there is no separate read: a read queued on the connection of a stuck
  // write would hold the event loop as long as the write waits (node-sqlite3).
  const storageFailure = async (): Promise<string | undefined> => {
    if (probe) return probe();
    const answered = await within(health.storageReachable().catch(() => false), writeTimeoutMs, false);
    return answered ? undefined : 'the session store does not answer (check SESSION_STORAGE)';
  };
  app.get('/healthz', async (_req, reply) => {
    const failure = await storageFailure();
    const reachable = failure === undefined;
    const checks: HealthChecks = { storage: { status: 'ok' }, ...health.checks?.() };
    if (failure) checks.storage = { status: 'failing', reason: failure };
    // Every dependency listed is required: any failing one means questions would fail.
    const healthy = Object.values(checks).every((c) => c.status === 'ok');
    const body = {
      status: healthy ? 'ok' : 'degraded',
      storage: reachable ? 'ok' : 'unreachable',
      stream: health.stream?.() ?? { state: 'disabled', leader: false },
      uptimeSeconds: Math.round(process.uptime()),
      checks,
    };
    return reply.code(healthy ? 200 : 503).send(body);
  });
}

/** `promise`'s value, or `fallback` when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * One write at a time, its result reused for a second: a write that hangs is waited for by
 * every check (each gives up after `timeoutMs`) instead of piling up more writes behind it.
 * Resolves with the reason of a failure, or undefined.
 */
function writeProbe(write: () => Promise<void>, timeoutMs: number): () => Promise<string | undefined> {
  let inflight: Promise<string | undefined> | undefined;
  let last: { at: number; failure: string | undefined } | undefined;
  return async () => {
    if (last && Date.now() - last.at < PROBE_FRESH_MS) return last.failure;
    inflight ??= write().then(
      () => undefined,
      (err: unknown) => `the storage does not take writes: ${err instanceof Error ? err.message : String(err)} (check SESSION_STORAGE, the disk and the file)`,
    );
    const settled = inflight;
    void settled.finally(() => {
      if (inflight === settled) inflight = undefined;
    });
    const tooLate = `the storage did not finish a write within ${Math.round(timeoutMs / 1000)} s (a frozen or overloaded disk, or a lock?)`;
    const failure = await within(settled, timeoutMs, tooLate);
    last = { at: Date.now(), failure };
    return failure;
  };
}
