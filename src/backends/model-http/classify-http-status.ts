import type { AssistantErrorKind } from '../../errors.js';
import { describeFailure, ModelCallError } from './model-call-error.js';

export interface StatusContext {
  readonly status: number;
  /** From the Retry-After headers, if any. */
  readonly retryAfterMs?: number;
  /** The vendor's error code, when the backend found one. */
  readonly upstreamCode?: string;
  /** Operator hints by kind (`auth`: the key variable, `config`: the model or URL variable). */
  readonly hints?: Partial<Record<AssistantErrorKind, string>>;
}

/**
 * The generic meaning of an HTTP error status, used once the backend's own vendor codes did not
 * decide: throttling and server trouble are retried, the operator's mistakes and the caller's
 * are not.
 */
export function classifyHttpStatus(ctx: StatusContext): ModelCallError {
  const { status } = ctx;
  const make = (kind: AssistantErrorKind, retryable: boolean) =>
    new ModelCallError(kind, describeFailure('model call failed', ctx.upstreamCode, status), {
      retryable,
      retryAfterMs: retryable ? ctx.retryAfterMs : undefined,
      upstreamCode: ctx.upstreamCode,
      status,
      hint: ctx.hints?.[kind],
    });
  if (status === 401 || status === 403) return make('auth', false);
  if (status === 402) return make('quota', false);
  if (status === 404) return make('config', false);
  if (status === 429) return make('rate_limited', true);
  // 408 and 409 are the server's own "try again" (the OpenAI SDK retries them too).
  if (status === 408 || status === 409 || status >= 500) return make('unavailable', true);
  if (status >= 300 && status < 400) return make('config', false);
  return make('rejected', false);
}
