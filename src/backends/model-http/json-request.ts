import type { ModelHttpClient } from './model-http-client.js';
import { networkError } from './streamed-post.js';
import { cancelledError, type QuestionBudget, timeoutError } from '../question-budget.js';
import { ModelCallError } from './model-call-error.js';

export interface JsonRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Longest wait for the whole answer (also bounded by the deadline). */
  readonly timeoutMs: number;
}

export interface JsonResponse {
  readonly status: number;
  /** Parsed JSON, or the text when it is not JSON. */
  readonly data: unknown;
}

/** A short JSON call bounded by its timeout, the deadline and the caller's signal. */
export async function sendJson(
  client: ModelHttpClient,
  request: JsonRequest,
  budget: QuestionBudget,
): Promise<JsonResponse> {
  budget.check();
  budget.attempts++;
  const remaining = Math.max(0, budget.remaining());
  const atDeadline = remaining <= request.timeoutMs;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, Math.min(remaining, request.timeoutMs));
  const onAbort = () => controller.abort();
  budget.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await client.ax.request({
      method: request.method,
      url: request.url,
      headers: { 'Content-Type': 'application/json', ...request.headers },
      data: request.body,
      responseType: 'json',
      signal: controller.signal,
    });
    return { status: res.status, data: res.data as unknown };
  } catch (err) {
    if (timedOut) {
      throw atDeadline
        ? timeoutError()
        : new ModelCallError('unavailable', 'model call failed (timeout)', {
            retryable: true,
            upstreamCode: 'timeout',
          });
    }
    throw budget.signal?.aborted ? cancelledError() : networkError(err);
  } finally {
    clearTimeout(timer);
    budget.signal?.removeEventListener('abort', onAbort);
  }
}
