import { AssistantError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { AskInput, BackendAnswer, BackendState, CallOptions } from '../assistant-backend.js';
import type { RunAnswer, RunCheckpoint, ThreadAskInput, ThreadsClient } from './threads-client.js';

/** What the DingTalk backend keeps per conversation (stored by the engine, opaque to it). */
export type ThreadState = {
  readonly threadId: string;
  /**
   * A run that was started but whose answer was never delivered (timeout, crash). The next
   * question first waits for or abandons it: DingTalk rejects a new run while one is active.
   */
  readonly pendingRunId?: string;
  /** The question (by request id, e.g. a chat msgId) whose upstream steps are recorded below. */
  readonly pendingRequestId?: string;
  /** The pending text is in the thread (true), or was about to be added (false: check upstream). */
  readonly pendingMessageAdded?: boolean;
  /** The last question answered and its run: asked again after a crash, the run is read, not re-asked. */
  readonly answeredRequestId?: string;
  readonly answeredRunId?: string;
};

/** The stored state if it is a thread state (anything else starts a new thread). */
export function readThreadState(state: BackendState | undefined): ThreadState | undefined {
  const s = state as Partial<ThreadState> | undefined;
  if (typeof s?.threadId !== 'string' || s.threadId === '') return undefined;
  return s as ThreadState;
}

/**
 * One question in a DingTalk thread: settles a run an earlier question left behind, resumes a
 * question a crash interrupted, replaces a thread DingTalk forgot, and records each upstream
 * step through `onCheckpoint` so the assistant sees every question once.
 */
export class ThreadSession {
  private state: ThreadState | undefined;
  private runId: string | undefined;

  constructor(
    private readonly client: ThreadsClient,
    private readonly input: AskInput,
    private readonly log: Logger,
  ) {
    this.state = readThreadState(input.state);
  }

  async answer(): Promise<BackendAnswer> {
    const loaded = this.state;
    const resumed = loaded ? await this.resumeSameQuestion(loaded) : undefined;
    if (resumed) return this.finish(loaded!.threadId, resumed, false);
    const opened = await this.openThread(loaded);
    let threadId = opened.threadId;
    try {
      return this.finish(threadId, await this.askInThread(threadId), opened.isNew);
    } catch (err) {
      if (!(err instanceof AssistantError) || err.kind !== 'conversation_missing') throw this.fail(threadId, err);
      this.log.warn('thread no longer exists upstream; starting a new one', { threadId });
      threadId = await this.createThread();
      try {
        return this.finish(threadId, await this.askInThread(threadId), true);
      } catch (retryErr) {
        throw this.fail(threadId, retryErr);
      }
    }
  }

  /** The same question was sent before a crash: read its run, or start the run for the added text. */
  private async resumeSameQuestion(state: ThreadState): Promise<RunAnswer | undefined> {
    const { requestId } = this.input;
    if (!requestId) return undefined;
    const answered = state.answeredRequestId === requestId && state.answeredRunId !== undefined;
    if (!answered && state.pendingRequestId !== requestId) return undefined;
    const runId = answered ? state.answeredRunId : state.pendingRunId;
    const { threadId } = state;
    this.log.info('resuming a question that already reached the assistant', { threadId, runId, answered });
    try {
      if (runId) return await this.client.resume({ ...this.callOptions(), threadId, runId });
      if (state.pendingMessageAdded) return await this.askInThread(threadId, { messageAlreadyAdded: true });
      // Recorded just before the text was added: it may be upstream already.
      return await this.askInThread(threadId, { messageMaybeAdded: true });
    } catch (err) {
      throw this.fail(threadId, err);
    }
  }

  private async openThread(state: ThreadState | undefined): Promise<{ threadId: string; isNew: boolean }> {
    if (state && (await this.settlePendingRun(state))) return { threadId: state.threadId, isNew: false };
    return { threadId: await this.createThread(), isNew: true };
  }

  /**
   * A run a timed-out question left behind may still be active. Wait for it a while; if it
   * never ends, abandon the thread (returns false) rather than fail every later question.
   */
  private async settlePendingRun(state: ThreadState): Promise<boolean> {
    if (!state.pendingRunId) return true;
    const budget = Math.min((this.input.deadline - Date.now()) / 3, 10_000);
    try {
      await this.client.resume({
        ...this.callOptions(),
        deadline: Date.now() + Math.max(budget, 0),
        threadId: state.threadId,
        runId: state.pendingRunId,
      });
      this.log.info('an earlier run finished before this question', { runId: state.pendingRunId });
      return true;
    } catch (err) {
      const kind = err instanceof AssistantError ? err.kind : 'unknown';
      if (kind === 'failed' || kind === 'rejected') return true; // ended: the thread is usable
      this.log.warn('abandoning a thread whose earlier run never ended', {
        threadId: state.threadId,
        runId: state.pendingRunId,
        kind,
      });
      return false;
    }
  }

  private async createThread(): Promise<string> {
    const threadId = await this.client.createThread(this.callOptions());
    // Only a question that can be resumed after a crash needs the thread on disk before it is used.
    if (this.input.requestId) await this.checkpoint({ threadId });
    else this.state = { threadId };
    return threadId;
  }

  /** Asks, recording each upstream step so a crash or timeout resumes instead of repeating. */
  private async askInThread(
    threadId: string,
    extra: Pick<ThreadAskInput, 'messageAlreadyAdded' | 'messageMaybeAdded'> = {},
  ): Promise<RunAnswer> {
    const pendingRequestId = this.input.requestId;
    if (pendingRequestId && !extra.messageAlreadyAdded) {
      await this.checkpoint({ threadId, pendingRequestId, pendingMessageAdded: false });
    }
    return this.client.ask({
      ...this.callOptions(),
      ...extra,
      threadId,
      text: this.input.text,
      onText: this.input.onText,
      onProgress: (checkpoint: RunCheckpoint) => {
        if (checkpoint.step === 'run-started') this.runId = checkpoint.runId;
        if (!pendingRequestId) return undefined;
        return this.checkpoint({ threadId, pendingRequestId, pendingMessageAdded: true, pendingRunId: this.runId });
      },
    });
  }

  private finish(threadId: string, result: RunAnswer, newThread: boolean): BackendAnswer {
    const { requestId } = this.input;
    // Which question this run answered: asked again after a crash before the answer reached the
    // user, the run is read instead of asking the assistant twice.
    const answered = requestId && result.runId ? { answeredRequestId: requestId, answeredRunId: result.runId } : {};
    this.log.info('thread answered', { threadId, runId: result.runId, newThread });
    return { answer: result.answer, state: { threadId, ...answered } };
  }

  /** The error to rethrow, carrying the state the failed question leaves behind. */
  private fail(threadId: string, err: unknown): unknown {
    if (!(err instanceof AssistantError)) return err;
    if (err.kind !== 'timeout' && err.kind !== 'cancelled') return err.withState({ threadId }); // the run ended
    // A timed-out run may still be active: keep its id so the next question settles it. A
    // resumable question already checkpointed its steps.
    if (!this.input.requestId && this.runId) return err.withState({ threadId, pendingRunId: this.runId });
    return err.withState(this.state?.threadId === threadId ? this.state : { threadId });
  }

  private async checkpoint(state: ThreadState): Promise<void> {
    this.state = state;
    await this.input.onCheckpoint?.(state);
  }

  private callOptions(): CallOptions {
    const { deadline, signal, logContext } = this.input;
    return { deadline, signal, logContext };
  }
}
