import type { AssistantErrorKind } from '../../errors.js';
import { AssistantError } from '../../errors.js';
import { DingTalkApiError, DingTalkNetworkError } from '../../dingtalk/dingtalk-api.js';
import { IP_THROTTLE_CODE } from '../../dingtalk/dingtalk-http-errors.js';

/** What to do about one failed DingTalk call. */
export interface ErrorVerdict {
  /** The kind the caller sees if we give up. */
  readonly kind: AssistantErrorKind;
  /** `transient`: retry with backoff; `throttled`: retry slower, honouring retryAfterMs. */
  readonly retry: 'never' | 'transient' | 'throttled';
  /** The request may have taken effect upstream although we got no proper answer. */
  readonly ambiguous: boolean;
  readonly code?: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
}

/** Caller mistakes: retrying cannot help (all arrive as HTTP 500, so the code decides). */
const REJECTED_CODES = new Set([
  'message.role.error',
  'message.not.user',
  'run.lastmessage.invalid',
  'run.assistantparam.error',
  'run.params.error',
]);
/** Missing permission `AI.Assistant.Run` and token problems that survived the client's refresh. */
const AUTH_CODES = new Set(['run.accesstoken.error', 'run.token.error', 'InvalidAuthentication']);
/** Socket errors raised before the request left: it surely did not happen upstream. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TRANSIENT_NAMES = new Set(['ServiceUnavailable', 'InternalError', 'SystemBusy']);

/** Classifies by DingTalk's `code`, never by HTTP status alone (reference §4, §7.3). */
export function classifyDingTalkError(err: unknown): ErrorVerdict {
  if (err instanceof AssistantError) return { kind: err.kind, retry: 'never', ambiguous: false, code: err.upstreamCode };
  if (err instanceof DingTalkNetworkError) return classifyNetwork(err);
  if (err instanceof DingTalkApiError) return classifyAnswer(err);
  return { kind: 'unavailable', retry: 'never', ambiguous: false };
}

function classifyAnswer(err: DingTalkApiError): ErrorVerdict {
  const { code, status, retryAfterMs } = err;
  const v = (kind: AssistantErrorKind, retry: ErrorVerdict['retry'], ambiguous = false): ErrorVerdict => ({
    kind,
    retry,
    ambiguous,
    code: code || undefined,
    status,
    retryAfterMs,
  });
  if (code === 'thread.not.exist') return v('conversation_missing', 'never');
  if (REJECTED_CODES.has(code) || code.endsWith('.invalid') || code.endsWith('.not.exist')) {
    return v('rejected', 'never');
  }
  if (AUTH_CODES.has(code) || code.startsWith('AuthenticationFailed')) return v('auth', 'never');
  if (/QpsLimit/i.test(code) || code === IP_THROTTLE_CODE || code === 'Throttling' || status === 429) {
    return v('rate_limited', 'throttled');
  }
  if (code.startsWith('Forbidden.AccessDenied.ApiCountLimit')) return v('rate_limited', 'never'); // monthly quota
  if (status === 401 || status === 403) return v('auth', 'never');
  if (/\.(exception|throwable|error)$/.test(code) || TRANSIENT_NAMES.has(code)) return v('unavailable', 'transient');
  // A codeless 5xx comes from a proxy or gateway: the call may or may not have reached DingTalk.
  if (code === '' && status >= 500) return v('unavailable', 'transient', true);
  if (status >= 500) return v('unavailable', 'never');
  return v('rejected', 'never');
}

function classifyNetwork(err: DingTalkNetworkError): ErrorVerdict {
  const socketCode = (err.cause as { code?: unknown } | undefined)?.code;
  const notSent = typeof socketCode === 'string' && NOT_SENT_CODES.has(socketCode);
  return {
    kind: err.timedOut ? 'timeout' : 'unavailable',
    retry: 'transient',
    ambiguous: !notSent,
    code: typeof socketCode === 'string' ? socketCode : undefined,
  };
}

/** Exponential backoff with jitter; throttling waits longer and at least what DingTalk asked. */
export function backoffDelay(attempt: number, verdict: ErrorVerdict, random: () => number = Math.random): number {
  const n = Math.max(0, attempt - 1);
  if (verdict.retry === 'throttled') {
    const base = Math.min(500 * 2 ** n, 10_000);
    return Math.max(verdict.retryAfterMs ?? 0, base) + Math.floor(random() * base * 0.2);
  }
  const d = Math.min(200 * 2 ** n, 2_000);
  return Math.floor(d / 2 + random() * (d / 2));
}

/** The AssistantError for a verdict we give up on; upstream text stays out of the message. */
export function verdictError(verdict: ErrorVerdict, what: string, cause: unknown): AssistantError {
  const detail = `${what} failed (${verdict.code ?? (verdict.status ? `HTTP ${verdict.status}` : 'network')})`;
  return new AssistantError(verdict.kind, detail, { upstreamCode: verdict.code, status: verdict.status, cause });
}
