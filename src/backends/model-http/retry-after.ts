/** A response header as axios hands it over (string, number, array or absent). */
type HeaderValue = unknown;

/**
 * How long the server asked us to wait, in ms: `retry-after-ms` (OpenAI-style) first, then
 * `Retry-After` in seconds or as an HTTP date. Undefined when neither is usable.
 */
export function retryAfterMs(headers: Readonly<Record<string, HeaderValue>>): number | undefined {
  const ms = firstValue(headers['retry-after-ms']);
  if (ms !== undefined) {
    const n = Number(ms);
    if (ms.trim() !== '' && Number.isFinite(n) && n >= 0) return n;
  }
  return parseRetryAfter(firstValue(headers['retry-after']));
}

/** `Retry-After` value: delta-seconds or an HTTP date, in ms from now (never negative). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function firstValue(v: HeaderValue): string | undefined {
  if (Array.isArray(v)) return firstValue(v[0]);
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? v : undefined;
}
