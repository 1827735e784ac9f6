import { AssistantError } from '../errors.js';

/**
 * The time and the cancellation of one question: every call, wait and retry of a backend
 * inherits its deadline and signal. Counts the upstream attempts for the log line. Shared by the
 * model-service backends and (as `CallBudget`) the DingTalk assistant.
 */
export class QuestionBudget {
  /** Upstream requests made so far. */
  attempts = 0;

  constructor(
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  remaining(): number {
    return this.deadline - Date.now();
  }

  /** Throws `cancelled` when the caller gave up, `timeout` when the deadline has passed. */
  check(): void {
    if (this.signal?.aborted) throw cancelledError();
    if (this.remaining() <= 0) throw timeoutError();
  }

  /** Waits `ms`; throws `timeout` instead of sleeping past the deadline, `cancelled` on abort. */
  async sleep(ms: number): Promise<void> {
    this.check();
    if (ms >= this.remaining()) throw timeoutError();
    await this.pause(ms);
    this.check();
  }

  /** Waits `ms`, or less when the signal fires first. */
  protected pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.signal?.addEventListener('abort', done, { once: true });
    });
  }
}

export function timeoutError(): AssistantError {
  return new AssistantError('timeout', 'no answer before the deadline');
}

export function cancelledError(): AssistantError {
  return new AssistantError('cancelled', 'the caller cancelled the question');
}
