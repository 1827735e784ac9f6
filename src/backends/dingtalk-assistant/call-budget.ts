import { AssistantError } from '../../errors.js';
import type { DingTalkApi, DingTalkRequest } from '../../dingtalk/dingtalk-api.js';

type BudgetRequest = Omit<DingTalkRequest, 'timeoutMs' | 'signal'>;

/**
 * One backend operation's share of time: every upstream call inherits the caller's deadline and
 * signal, and is counted (the count goes into the log line of the question).
 */
export class CallBudget {
  /** Upstream calls made so far (token calls happen inside the client and are not counted). */
  calls = 0;

  constructor(
    private readonly api: DingTalkApi,
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    private readonly callTimeoutMs: number,
  ) {}

  remaining(): number {
    return this.deadline - Date.now();
  }

  /** Throws `cancelled` when the caller gave up, `timeout` when the deadline has passed. */
  check(): void {
    if (this.signal?.aborted) throw new AssistantError('cancelled', 'the caller cancelled the question');
    if (this.remaining() <= 0) throw new AssistantError('timeout', 'no answer before the deadline');
  }

  request<T>(req: BudgetRequest): Promise<T> {
    this.check();
    this.calls++;
    return this.api.request<T>({ ...req, timeoutMs: this.callTimeout(), signal: this.signal });
  }

  /** Opens a streamed call; the timeout covers only the wait for the answer's headers. */
  openStream(req: BudgetRequest): Promise<NodeJS.ReadableStream> {
    this.check();
    this.calls++;
    return this.api.openStream({ ...req, timeoutMs: this.callTimeout(), signal: this.signal });
  }

  /** Waits `ms`, but throws `timeout` at the deadline and `cancelled` on abort. */
  async sleep(ms: number): Promise<void> {
    this.check();
    const wait = Math.min(ms, this.remaining());
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wait));
      this.signal?.addEventListener('abort', done, { once: true });
    });
    if (wait < ms && !this.signal?.aborted) {
      throw new AssistantError('timeout', 'no answer before the deadline');
    }
    this.check();
  }

  private callTimeout(): number {
    return Math.max(1, Math.min(this.callTimeoutMs, this.remaining()));
  }
}
