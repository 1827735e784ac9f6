import { AssistantError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { CallBudget } from './call-budget.js';
import { backoffDelay, classifyDingTalkError, type ErrorVerdict, verdictError } from './retry-policy.js';

export interface RetryOptions<T> {
  /** Names the call in logs and errors, e.g. `add message`. */
  readonly what: string;
  /**
   * False for POSTs that must not happen twice (add message, create run). They are retried only
   * when DingTalk surely did not act, or when `verify` shows the first attempt did not land.
   */
  readonly idempotent: boolean;
  /** After an ambiguous failure: the result upstream already holds, or undefined if none. */
  readonly verify?: () => Promise<T | undefined>;
  readonly maxAttempts?: number;
  readonly onRetry?: (verdict: ErrorVerdict, attempt: number) => void;
}

const DEFAULT_ATTEMPTS = 4;

/** Runs `op`, retrying transient failures with backoff inside the budget's deadline. */
export async function withRetry<T>(
  budget: CallBudget,
  logger: Logger,
  op: () => Promise<T>,
  options: RetryOptions<T>,
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      budget.check(); // the deadline or the caller's abort explain the failure best
      const verdict = classifyDingTalkError(err);
      if (err instanceof AssistantError) throw err;
      if (verdict.retry === 'never' || attempt >= maxAttempts) throw verdictError(verdict, options.what, err);
      if (verdict.ambiguous && !options.idempotent) {
        if (!options.verify) throw verdictError(verdict, options.what, err);
        const landed = await options.verify();
        if (landed !== undefined) {
          logger.info('dingtalk call had landed despite the error', { call: options.what, code: verdict.code });
          return landed;
        }
      }
      const delayMs = backoffDelay(attempt, verdict);
      if (delayMs >= budget.remaining()) throw verdictError(verdict, options.what, err);
      logger.warn('dingtalk call failed; retrying', {
        call: options.what,
        attempt,
        code: verdict.code,
        status: verdict.status,
        delayMs,
      });
      options.onRetry?.(verdict, attempt);
      await budget.sleep(delayMs);
    }
  }
}
