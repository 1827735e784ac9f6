import type { DingTalkApi, DingTalkRequest } from '../../dingtalk/dingtalk-api.js';
import { QuestionBudget, timeoutError } from '../question-budget.js';

type BudgetRequest = Omit<DingTalkRequest, 'timeoutMs' | 'signal'>;

/**
 * The question's budget (deadline, signal, attempts) for calls to DingTalk's assistant API:
 * each call's timeout is cut to what is left, and counted (token calls happen inside the client
 * and are not).
 */
export class CallBudget extends QuestionBudget {
  constructor(
    private readonly api: DingTalkApi,
    deadline: number,
    signal: AbortSignal | undefined,
    private readonly callTimeoutMs: number,
  ) {
    super(deadline, signal);
  }

  request<T>(req: BudgetRequest): Promise<T> {
    this.check();
    this.attempts++;
    return this.api.request<T>({ ...req, timeoutMs: this.callTimeout(), signal: this.signal });
  }

  /** Opens a streamed call; the timeout covers only the wait for the answer's headers. */
  openStream(req: BudgetRequest): Promise<NodeJS.ReadableStream> {
    this.check();
    this.attempts++;
    return this.api.openStream({ ...req, timeoutMs: this.callTimeout(), signal: this.signal });
  }

  /**
   * Waits `ms`, but only up to the deadline, then throws `timeout`: a run polled until then
   * ends when the user is told, not earlier. `cancelled` on abort.
   */
  override async sleep(ms: number): Promise<void> {
    this.check();
    const wait = Math.min(ms, this.remaining());
    await this.pause(wait);
    if (wait < ms && !this.signal?.aborted) throw timeoutError();
    this.check();
  }

  private callTimeout(): number {
    return Math.max(1, Math.min(this.callTimeoutMs, this.remaining()));
  }
}
