import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { ModelHttpClient } from './model-http-client.js';
import { ModelCallError } from './model-call-error.js';
import { cancelledError, type QuestionBudget, timeoutError } from '../question-budget.js';

export interface StreamedPostRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** Longest wait for the response headers. */
  readonly firstByteTimeoutMs: number;
  /** Longest silence between two chunks of the body. */
  readonly idleTimeoutMs: number;
}

export interface StreamedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, unknown>>;
  /** The body; fails with a `ModelCallError` (idle), `timeout` (deadline) or `cancelled` (signal). */
  readonly body: Readable;
  /** Shortens the idle limit, e.g. once the answer is complete and only usage may follow. */
  setIdleTimeout(ms: number): void;
}

/**
 * POSTs JSON and hands back the response body as a stream, whatever the status. Waiting for
 * the headers and every silence in the body are bounded by their own limits and by the
 * question's deadline; the caller's signal ends either. Network failures are retryable
 * `unavailable` errors; the deadline is `timeout` and the signal `cancelled`.
 */
export async function streamedPost(
  client: ModelHttpClient,
  request: StreamedPostRequest,
  budget: QuestionBudget,
): Promise<StreamedResponse> {
  budget.check();
  budget.attempts++;
  const controller = new AbortController();
  const limit = armLimit(budget, request.firstByteTimeoutMs, 'first_byte_timeout', () => controller.abort());
  const onAbort = () => controller.abort();
  budget.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await client.ax.post<Readable>(request.url, request.body, {
      headers: { 'Content-Type': 'application/json', 'Accept-Encoding': 'identity', ...request.headers },
      responseType: 'stream',
      signal: controller.signal,
    });
    limit.clear();
    return guardBody(res.status, res.headers as Record<string, unknown>, res.data, budget, request.idleTimeoutMs);
  } catch (err) {
    throw limit.reason() ?? (budget.signal?.aborted ? cancelledError() : networkError(err));
  } finally {
    limit.clear();
    budget.signal?.removeEventListener('abort', onAbort);
  }
}

/** Wraps a failure without an answer; the cause keeps only the socket code, never the request. */
export function networkError(err: unknown): ModelCallError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const socketCode = typeof code === 'string' && code !== 'ERR_CANCELED' ? code : undefined;
  const cause = Object.assign(new Error(err instanceof Error ? err.message : String(err)), { code: socketCode });
  return new ModelCallError('unavailable', `model call failed (${socketCode ?? 'network'})`, {
    retryable: true,
    upstreamCode: socketCode,
    cause,
  });
}

interface Limit {
  /** The error to report when the limit fired, else undefined. */
  reason(): Error | undefined;
  clear(): void;
}

/** One timer at the nearer of `ms` and the deadline, remembering which of the two it was. */
function armLimit(budget: QuestionBudget, ms: number, code: string, fire: () => void): Limit {
  const remaining = Math.max(0, budget.remaining());
  const atDeadline = remaining <= ms;
  let fired: Error | undefined;
  const timer = setTimeout(() => {
    fired = atDeadline
      ? timeoutError()
      : new ModelCallError('unavailable', `model call failed (${code})`, { retryable: true, upstreamCode: code });
    fire();
  }, atDeadline ? remaining : ms);
  return { reason: () => fired, clear: () => clearTimeout(timer) };
}

function guardBody(
  status: number,
  headers: Record<string, unknown>,
  source: Readable,
  budget: QuestionBudget,
  idleMs: number,
): StreamedResponse {
  let idle = idleMs;
  let limit: Limit | undefined;
  const guard = new Transform({
    transform(chunk, _encoding, callback) {
      rearm();
      callback(null, chunk);
    },
  });
  const stop = (err: Error) => {
    guard.destroy(err);
    source.destroy();
  };
  const rearm = () => {
    limit?.clear();
    limit = armLimit(budget, idle, 'idle_timeout', () => stop(limit!.reason()!));
  };
  const onAbort = () => stop(cancelledError());
  budget.signal?.addEventListener('abort', onAbort, { once: true });
  source.on('error', (err) => guard.destroy(networkError(err)));
  // The reader sees failures through its iterator; this keeps one raised between reads from crashing.
  guard.on('error', () => undefined);
  source.pipe(guard);
  guard.once('close', () => {
    limit?.clear();
    budget.signal?.removeEventListener('abort', onAbort);
    source.destroy();
  });
  if (budget.signal?.aborted) onAbort();
  else rearm();
  return {
    status,
    headers,
    body: guard,
    setIdleTimeout(ms) {
      idle = Math.min(idle, ms);
      rearm();
    },
  };
}
