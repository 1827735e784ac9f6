import { AssistantError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { backoffDelay } from './backoff-delay.js';
import { isRetryable } from './model-call-error.js';
import type { QuestionBudget } from '../question-budget.js';

export interface RetryOptions {
  /** Attempts at most, counting the first (the deadline usually ends retrying first). */
  readonly maxAttempts?: number;
  /** Tests pin the jitter. */
  readonly random?: () => number;
}

const DEFAULT_MAX_ATTEMPTS = 6;

/**
 * Runs `attempt` until it succeeds, retrying only retryable `ModelCallError`s with backoff and
 * jitter (at least what Retry-After asked). It never sleeps past the deadline: when the wait
 * would end after it, the last failure is thrown as it is. The caller's signal and the deadline
 * win over any other failure, so a question is `cancelled` or `timeout` when that is the cause.
 */
export async function runWithRetries<T>(
  budget: QuestionBudget,
  log: Logger,
  attempt: (n: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      // A verdict of the model service stands; only a failed transfer may hide a deadline or abort.
      if (err instanceof AssistantError && !isRetryable(err)) throw err;
      budget.check();
      if (!isRetryable(err) || n >= maxAttempts) throw asAssistantError(err);
      const delayMs = backoffDelay(n, err.retryAfterMs, options.random);
      if (delayMs >= budget.remaining()) throw err;
      log.debug('model call failed; retrying', {
        attempt: n,
        kind: err.kind,
        status: err.status,
        code: err.upstreamCode,
        delayMs,
      });
      await budget.sleep(delayMs);
    }
  }
}

function asAssistantError(err: unknown): AssistantError {
  if (err instanceof AssistantError) return err;
  return new AssistantError('failed', 'model call failed (internal)', { cause: err });
}
