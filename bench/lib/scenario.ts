import type { Row } from './report.js';
import { type BenchFake, startBenchFake } from './fake.js';
import { type BenchService, benchEnv, startService, type StartOptions } from './service.js';

/**
 * Which backend answers: the DingTalk assistant waiting for its run on the SSE stream or by
 * polling, or an OpenAI-compatible or Dify model service (each behind its wire fake).
 */
export type Mode = 'stream' | 'poll' | 'openai' | 'dify';
export const MODES: readonly Mode[] = ['stream', 'poll'];
export const MODEL_MODES: readonly Mode[] = ['openai', 'dify'];

export interface ScenarioResult {
  readonly rows: Row[];
  /** Raw figures for results.json. */
  readonly details: Record<string, unknown>;
}

/**
 * MAX_CONCURRENT_RUNS for a burst of `n` questions through one door: with the default shares the
 * other door keeps up to half of the slots (CHAT_RUN_SHARE 50 %), so twice the burst lets every
 * question of the burst run at once, as the figure means to measure (not the configured cap).
 */
export function runsForBurst(n: number): string {
  return String(Math.max(250, 2 * n));
}

export function modeEnv(mode: Mode): Record<string, string> {
  return mode === 'stream' || mode === 'poll' ? { ASSISTANT_STREAMING: mode === 'stream' ? 'true' : 'false' } : {};
}

export function modeLabel(mode: Mode): string {
  return { stream: 'streaming', poll: 'polling', openai: 'OpenAI-compatible', dify: 'Dify' }[mode];
}

function modelOf(mode: Mode | undefined): 'openai' | 'dify' | undefined {
  return mode === 'openai' || mode === 'dify' ? mode : undefined;
}

/**
 * Starts a fake DingTalk (and, for a model mode, the model's fake), whose answers take `runMs`,
 * and the service against it; always stops both.
 */
export async function withService<T>(
  runMs: number,
  env: Record<string, string>,
  fn: (fake: BenchFake, svc: BenchService) => Promise<T>,
  options: StartOptions & { mode?: Mode } = {},
): Promise<T> {
  const fake = await startBenchFake(runMs, modelOf(options.mode));
  let svc: BenchService | undefined;
  try {
    svc = await startService(benchEnv(fake, { ...fake.model?.env, ...env }), options);
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
export async function startUpChecksDone(url: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const res = await fetch(`${url}/healthz`).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
