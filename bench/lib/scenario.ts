import type { Row } from './report.js';
import { type BenchFake, startBenchFake } from './fake.js';
import { type BenchService, benchEnv, startService, type StartOptions } from './service.js';

/** How the service waits for a run: the SSE stream, or polling the run. */
export type Mode = 'stream' | 'poll';
export const MODES: readonly Mode[] = ['stream', 'poll'];

export interface ScenarioResult {
  readonly rows: Row[];
  /** Raw figures for results.json. */
  readonly details: Record<string, unknown>;
}

export function modeEnv(mode: Mode): Record<string, string> {
  return { ASSISTANT_STREAMING: mode === 'stream' ? 'true' : 'false' };
}

export function modeLabel(mode: Mode): string {
  return mode === 'stream' ? 'streaming' : 'polling';
}

/** Starts a fake DingTalk (run time `runMs`) and the service against it; always stops both. */
export async function withService<T>(
  runMs: number,
  env: Record<string, string>,
  fn: (fake: BenchFake, svc: BenchService) => Promise<T>,
  options: StartOptions = {},
): Promise<T> {
  const fake = await startBenchFake(runMs);
  let svc: BenchService | undefined;
  try {
    svc = await startService(benchEnv(fake, env), options);
    await startUpChecksDone(svc.url);
    return await fn(fake, svc);
  } finally {
    await svc?.stop();
    await fake.close();
  }
}

/**
 * The service checks its dependencies right after start-up (a token, a robot permission probe,
 * the backend's check): wait until /healthz reports them all, so no phase counts their calls.
 * Bounded; a setup that never turns healthy is measured anyway.
 */
async function startUpChecksDone(url: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const res = await fetch(`${url}/healthz`).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
