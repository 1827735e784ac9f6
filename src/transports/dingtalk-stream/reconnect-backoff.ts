export interface BackoffOptions {
  /** First delay (production 1 s). */
  readonly baseMs: number;
  /** Cap (production 60 s). */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60_000 };

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential with up to one base of
 * jitter, capped, so many bots restarted together do not dial DingTalk in lockstep.
 */
export function reconnectDelay(attempt: number, options: BackoffOptions, random = Math.random): number {
  const exponential = options.baseMs * 2 ** Math.min(attempt, 30);
  return Math.round(Math.min(options.maxMs, exponential + random() * options.baseMs));
}
