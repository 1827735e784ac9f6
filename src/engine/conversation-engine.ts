import type { AssistantBackend, BackendAnswer, CallOptions, RunCheckpoint } from '../backends/assistant-backend.js';
import type { Config } from '../config.js';
import { AssistantError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SessionRecord, SessionStore } from '../storage/session-store.js';
import type { ConversationKey } from './conversation-key.js';
import { KeyedQueue } from './keyed-queue.js';
import { RunSlots } from './run-slots.js';
import type { AskRequest, AskResult, ConversationService } from './types.js';

export interface EngineOptions {
  readonly backend: AssistantBackend;
  readonly sessions: SessionStore;
  readonly logger: Logger;
  /** Idle time after which a conversation starts a new thread (SESSION_TTL_MINUTES). */
  readonly sessionTtlMs: number;
  /** Default time a question may take once its turn starts (ANSWER_TIMEOUT_SECONDS). */
  readonly answerTimeoutMs: number;
  /** Questions waiting or running per conversation (CHAT_QUEUE_LIMIT). */
  readonly queueLimit: number;
  /** Runs in flight across all conversations (MAX_CONCURRENT_RUNS). */
  readonly maxConcurrentRuns: number;
  readonly now?: () => number;
}

/** The engine's limits as configured (SESSION_TTL_MINUTES, ANSWER_TIMEOUT_SECONDS, ...). */
export function engineLimits(
  config: Config,
): Pick<EngineOptions, 'sessionTtlMs' | 'answerTimeoutMs' | 'queueLimit' | 'maxConcurrentRuns'> {
  return {
    sessionTtlMs: config.sessions.ttlMs,
    answerTimeoutMs: config.assistant.answerTimeoutMs,
    queueLimit: config.chat.queueLimit,
    maxConcurrentRuns: config.assistant.maxConcurrentRuns,
  };
}

interface Turn {
  readonly request: AskRequest;
  readonly deadline: number;
  readonly log: Logger;
  /** The run answering this question, once started. */
  runId?: string;
}

/**
 * The conversation engine: maps a conversation key to an assistant thread, one question at a
 * time per key. It knows nothing of HTTP or DingTalk frames; transports build the key.
 */
export class ConversationEngine implements ConversationService {
  private readonly queue: KeyedQueue;
  private readonly slots: RunSlots;
  private readonly now: () => number;

  constructor(private readonly options: EngineOptions) {
    this.queue = new KeyedQueue(options.queueLimit);
    this.slots = new RunSlots(options.maxConcurrentRuns);
    this.now = options.now ?? Date.now;
  }

  ask(request: AskRequest): Promise<AskResult> {
    return this.queue.run(request.key, async () => {
      request.onStart?.();
      const deadline = request.deadline ?? this.now() + this.options.answerTimeoutMs;
      const log = this.options.logger.child({ conversationKey: request.key, ...request.logContext });
      const release = await this.slots.acquire(deadline, request.signal);
      try {
        return await this.answer({ request, deadline, log });
      } finally {
        release();
      }
    });
  }

  reset(key: ConversationKey): Promise<void> {
    return this.queue.run(key, () => this.options.sessions.delete(key));
  }

  async hasSession(key: ConversationKey): Promise<boolean> {
    return (await this.options.sessions.get(key)) !== undefined;
  }

  /** Resolves when every queued question has settled (graceful stop). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  /** Runs in flight and waiting for a slot (health and benchmarks). */
  load(): { running: number; waiting: number } {
    return { running: this.slots.inUse, waiting: this.slots.waiting };
  }

  private async answer(turn: Turn): Promise<AskResult> {
    const started = this.now();
    const session = await this.options.sessions.get(turn.request.key);
    const resumed = session ? await this.resumeSameQuestion(turn, session) : undefined;
    if (resumed) return this.finish(turn, session!.threadId, false, resumed, started);

    let { threadId, newThread } = await this.openThread(turn, session);
    try {
      const result = await this.askInThread(turn, threadId);
      return this.finish(turn, threadId, newThread, result, started);
    } catch (err) {
      if (!(err instanceof AssistantError) || err.kind !== 'thread_missing') throw await this.fail(turn, threadId, err);
      // DingTalk forgot the thread: start a new one and ask again, once.
      turn.log.warn('thread no longer exists upstream; starting a new one', { threadId });
      threadId = await this.createThread(turn);
      newThread = true;
      try {
        const result = await this.askInThread(turn, threadId);
        return this.finish(turn, threadId, newThread, result, started);
      } catch (retryErr) {
        throw await this.fail(turn, threadId, retryErr);
      }
    }
  }

  /**
   * The same question (same requestId) was already sent before a crash or timeout: read the run
   * it started, or start the run for the message it added, so the assistant sees it once.
   */
  private async resumeSameQuestion(turn: Turn, session: SessionRecord): Promise<BackendAnswer | undefined> {
    const { requestId } = turn.request;
    if (!requestId) return undefined;
    const { threadId } = session;
    const answered = session.answeredRequestId === requestId && session.answeredRunId !== undefined;
    if (!answered && session.pendingRequestId !== requestId) return undefined;
    const runId = answered ? session.answeredRunId : session.pendingRunId;
    turn.log.info('resuming a question that already reached the assistant', { threadId, runId, answered });
    try {
      if (runId) return await this.options.backend.resume({ ...this.callOptions(turn), threadId, runId });
      if (session.pendingMessageAdded) {
        return await this.askInThread(turn, threadId, { messageAlreadyAdded: true });
      }
      // Recorded just before the text was added: it may be upstream already.
      return await this.askInThread(turn, threadId, { messageMaybeAdded: true });
    } catch (err) {
      throw await this.fail(turn, threadId, err);
    }
  }

  /** The conversation's live thread, after settling any run an earlier question left behind. */
  private async openThread(turn: Turn, session: SessionRecord | undefined): Promise<{ threadId: string; newThread: boolean }> {
    if (session && (await this.settlePendingRun(turn, session))) {
      return { threadId: session.threadId, newThread: false };
    }
    return { threadId: await this.createThread(turn), newThread: true };
  }

  /**
   * A run a timed-out question left behind may still be active, and DingTalk rejects a new run
   * until it ends. Wait for it a while; if it never ends, abandon the thread (returns false).
   */
  private async settlePendingRun(turn: Turn, session: SessionRecord): Promise<boolean> {
    if (!session.pendingRunId) return true;
    const budget = Math.min((turn.deadline - this.now()) / 3, 10_000);
    try {
      await this.options.backend.resume({
        ...this.callOptions(turn),
        deadline: this.now() + Math.max(budget, 0),
        threadId: session.threadId,
        runId: session.pendingRunId,
      });
      turn.log.info('an earlier run finished before this question', { runId: session.pendingRunId });
      return true;
    } catch (err) {
      const kind = err instanceof AssistantError ? err.kind : 'unknown';
      if (kind === 'failed' || kind === 'rejected') return true; // ended: the thread is usable
      turn.log.warn('abandoning a thread whose earlier run never ended', {
        threadId: session.threadId,
        runId: session.pendingRunId,
        kind,
      });
      return false;
    }
  }

  private async createThread(turn: Turn): Promise<string> {
    const threadId = await this.options.backend.createThread(this.callOptions(turn));
    await this.save(turn.request.key, { threadId, lastActiveAt: this.now() });
    return threadId;
  }

  /** Asks, recording each step upstream so a crash or timeout can resume instead of repeating. */
  private async askInThread(
    turn: Turn,
    threadId: string,
    extra: { messageAlreadyAdded?: boolean; messageMaybeAdded?: boolean } = {},
  ): Promise<BackendAnswer> {
    const { request } = turn;
    const pendingRequestId = request.requestId;
    if (pendingRequestId && !extra.messageAlreadyAdded) {
      // Before the text goes upstream: a crash from here on resumes (checking upstream) instead
      // of adding the question a second time.
      await this.save(request.key, { threadId, lastActiveAt: this.now(), pendingRequestId, pendingMessageAdded: false });
    }
    return this.options.backend.ask({
      ...this.callOptions(turn),
      ...extra,
      threadId,
      text: request.text,
      onProgress: (checkpoint: RunCheckpoint) => {
        if (checkpoint.step === 'run-started') turn.runId = checkpoint.runId;
        // Only a question with a requestId can be resumed after a crash, so only its steps are
        // written as they happen; for others `fail` records a run that outlived the question.
        if (!pendingRequestId) return undefined;
        return this.save(request.key, {
          threadId,
          lastActiveAt: this.now(),
          pendingRequestId,
          pendingMessageAdded: true,
          pendingRunId: turn.runId,
        });
      },
    });
  }

  private callOptions(turn: Turn): CallOptions {
    const { request } = turn;
    return {
      deadline: turn.deadline,
      signal: request.signal,
      logContext: { conversationKey: request.key, ...request.logContext },
    };
  }

  private async finish(
    turn: Turn,
    threadId: string,
    newThread: boolean,
    result: { answer: string; runId?: string },
    started: number,
  ): Promise<AskResult> {
    const { requestId } = turn.request;
    // Remember which question this run answered: asked again after a crash before the answer
    // reached the user, the engine reads this run instead of asking the assistant twice.
    const answered = requestId && result.runId ? { answeredRequestId: requestId, answeredRunId: result.runId } : {};
    await this.save(turn.request.key, { threadId, lastActiveAt: this.now(), ...answered });
    turn.log.info('answered', { threadId, runId: result.runId, newThread, durationMs: this.now() - started });
    return { answer: result.answer, threadId, runId: result.runId, newThread };
  }

  /** Records what a failed question leaves behind and returns the error to rethrow. */
  private async fail(turn: Turn, threadId: string, err: unknown): Promise<unknown> {
    const kind = err instanceof AssistantError ? err.kind : undefined;
    // A timed-out or cancelled run may still be active: keep its id (saved at run start) so the
    // next question settles it. Any other failure ended the run: refresh the idle clock only.
    if (kind !== 'timeout' && kind !== 'cancelled') {
      await this.save(turn.request.key, { threadId, lastActiveAt: this.now() }).catch(() => undefined);
    } else if (!turn.request.requestId && turn.runId) {
      await this.save(turn.request.key, { threadId, lastActiveAt: this.now(), pendingRunId: turn.runId }).catch(() => undefined);
    }
    turn.log.warn('question failed', { threadId, kind: kind ?? 'error', err: String(err) });
    return err;
  }

  private save(key: ConversationKey, record: SessionRecord): Promise<void> {
    return this.options.sessions.set(key, record, this.options.sessionTtlMs);
  }
}
