const BASE_MS = 500;
const CAP_MS = 8_000;

/**
 * The wait before attempt `attempt + 1`: exponential from 0.5 s to 8 s with up to 25 % jitter,
 * or what the server asked for (plus a little jitter, so many clients do not return together).
 */
export function backoffDelay(attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const n = Math.max(0, attempt - 1);
  if (retryAfterMs !== undefined) {
    return Math.ceil(retryAfterMs + random() * Math.min(250, retryAfterMs * 0.1 + 50));
  }
  const base = Math.min(BASE_MS * 2 ** n, CAP_MS);
  return Math.floor(base * (0.75 + random() * 0.25));
}
