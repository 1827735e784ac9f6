import { DingTalkApiError, DingTalkNetworkError } from './dingtalk-api.js';

/** Code given to the per-IP throttle, whose odd body (`{"status":1111,"wait":5}`) has none. */
export const IP_THROTTLE_CODE = 'ThrottledByIp';

/**
 * Maps a non-2xx answer to `DingTalkApiError`. DingTalk's gateway body is
 * `{code, requestid, message}`; a body without a code (plain 5xx from a proxy) gets code ''.
 */
export function toDingTalkApiError(
  status: number,
  headers: Record<string, unknown>,
  rawBody: unknown,
): DingTalkApiError {
  const body = asObject(rawBody);
  const headerWait = parseRetryAfter(headers['retry-after']);
  if (body && body.status === 1111 && typeof body.wait === 'number' && body.code === undefined) {
    const retryAfterMs = Math.max(body.wait * 1000, headerWait ?? 0);
    return new DingTalkApiError(status, IP_THROTTLE_CODE, 'per-IP call limit reached', { retryAfterMs });
  }
  const code = typeof body?.code === 'string' ? body.code : '';
  const message = typeof body?.message === 'string' ? body.message : describe(rawBody);
  const requestId =
    str(body?.requestid) ?? str(body?.requestId) ?? str(headers['x-acs-request-id']) ?? undefined;
  const detail = asObject(body?.accessdenieddetail);
  const scopes = Array.isArray(detail?.requiredScopes) ? detail.requiredScopes.filter((x): x is string => typeof x === 'string') : undefined;
  return new DingTalkApiError(status, code, message, { requestId, retryAfterMs: headerWait, requiredScopes: scopes });
}

/**
 * Wraps a failure without an answer. The cause keeps only the socket error code
 * (ECONNREFUSED, ECONNRESET...), never the request config, which holds the access token.
 */
export function toDingTalkNetworkError(err: unknown, timedOut: boolean, what: string): DingTalkNetworkError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const cause = Object.assign(new Error(message), { code: typeof code === 'string' ? code : undefined });
  const reason = timedOut ? 'timed out' : typeof code === 'string' ? code : message;
  return new DingTalkNetworkError(`${what}: ${reason}`, { cause, timedOut });
}

/** Retry-After in seconds or as an HTTP date, in ms. */
export function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function asObject(body: unknown): Record<string, unknown> | undefined {
  if (typeof body === 'string') {
    try {
      return asObject(JSON.parse(body));
    } catch {
      return undefined;
    }
  }
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function describe(body: unknown): string {
  if (body === undefined || body === null || body === '') return 'no body';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
