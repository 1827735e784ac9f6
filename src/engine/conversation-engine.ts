import { capAnswer } from '../backends/answer-limit.js';
import type { AssistantBackend, BackendState } from '../backends/assistant-backend.js';
import { AssistantError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics/bridge-metrics.js';
import type { ConversationLocks } from '../storage/conversation-locks.js';
import type { SessionRecord, SessionStore } from '../storage/session-store.js';
import type { ConversationKey } from './conversation-key.js';
import { ExpiredSessions, type ExpiryLimits, type ExpirySweep } from './expired-sessions.js';
import { KeyedQueue } from './keyed-queue.js';
import { pseudonymOf } from './pseudonym.js';
import { RunSlots, type RunShares } from './run-slots.js';
import type { AskRequest, AskResult, ConversationService, ConversationTurn } from './types.js';

export interface EngineOptions {
  readonly backend: AssistantBackend;
  readonly sessions: SessionStore;
  readonly logger: Logger;
  /** Idle time after which a conversation starts over (SESSION_TTL_MINUTES). */
  readonly sessionTtlMs: number;
  /** Default time a question may take once its turn starts (ANSWER_TIMEOUT_SECONDS). */
  readonly answerTimeoutMs: number;
  /** Turns waiting or running per conversation (CONVERSATION_QUEUE_LIMIT). */
  readonly queueLimit: number;
  /** Questions at the model service at once, across all conversations (MAX_CONCURRENT_RUNS). */
  readonly maxConcurrentRuns: number;
  /** Percent of those kept for each class of askers (CHAT_RUN_SHARE, HTTP_RUN_SHARE); none by default. */
  readonly runShares?: RunShares;
  /** The storage's secret for pseudonyms (`Storage.pseudonymKey`). */
  readonly pseudonymKey: string;
  /** Several instances on one store (Redis): one turn of a conversation at a time across them. */
  readonly locks?: ConversationLocks;
  /** Counts questions sent to the backend by outcome. */
  readonly metrics?: BridgeMetrics;
  /**
   * ANSWER_MAX_CHARS: an answer longer than this is cut with a note. Backends cut while they
   * stream (before the heap grows); this is the last guard for any that does not.
   */
  readonly maxAnswerChars?: number;
  /** Bounds of the upstream deletes of one expiry sweep (tests shorten them). */
  readonly expiryLimits?: Partial<ExpiryLimits>;
  readonly now?: () => number;
}

/**
 * The conversation engine: one conversation per key, one turn at a time per key, the backend's
 * state stored with the session. It knows nothing of HTTP, DingTalk frames or any vendor's
 * threads and runs; transports build the key, backends keep their own state.
 */
export class ConversationEngine implements ConversationService {
  private readonly queue: KeyedQueue;
  private readonly slots: RunSlots;
  private readonly now: () => number;
  private readonly expired: ExpiredSessions;

  constructor(private readonly options: EngineOptions) {
    this.queue = new KeyedQueue(options.queueLimit);
    this.slots = new RunSlots(options.maxConcurrentRuns, options.runShares);
    this.now = options.now ?? Date.now;
    this.expired = new ExpiredSessions({ ...options, limits: options.expiryLimits });
  }

  inConversation<T>(key: ConversationKey, work: (turn: ConversationTurn) => Promise<T>): Promise<T> {
    return this.runTurn(key, undefined, work);
  }

  ask(request: AskRequest): Promise<AskResult> {
    return this.runTurn(request.key, request.deadline, (turn) => turn.ask(request));
  }

  reset(key: ConversationKey): Promise<void> {
    return this.inConversation(key, (turn) => turn.reset());
  }

  async hasSession(key: ConversationKey): Promise<boolean> {
    return (await this.options.sessions.get(key)) !== undefined;
  }

  /**
   * One turn: in this process's lane for the key, then (several instances) under the key's lock
   * across processes, waited for until `lockDeadline` (default: ANSWER_TIMEOUT_SECONDS from now).
   */
  private runTurn<T>(key: ConversationKey, lockDeadline: number | undefined, work: (turn: ConversationTurn) => Promise<T>): Promise<T> {
    return this.queue.run(key, async () => {
      const held = await this.holdAcrossProcesses(key, lockDeadline);
      // A turn's methods are valid only while it runs: later calls would break the order.
      let open = true;
      const turn: ConversationTurn = held.failure
        ? failedTurn(key, held.failure)
        : {
            key,
            ask: (request) => (open ? this.answer({ ...request, key }) : closedTurn()),
            reset: () => (open ? this.forget(key) : closedTurn()),
          };
      try {
        return await work(turn);
      } finally {
        open = false;
        held.release?.();
      }
    });
  }

  /**
   * The conversation's lock when several instances share the store. Not had (store down, or
   * another instance still answering at the deadline): the turn runs, but its questions fail
   * with that reason, so every transport answers the way it answers a failure (503, 504, a
   * friendly sentence) instead of staying silent.
   */
  private async holdAcrossProcesses(key: ConversationKey, deadline: number | undefined): Promise<{ release?: () => void; failure?: Error }> {
    const { locks, logger } = this.options;
    if (!locks) return {};
    let failure: Error;
    try {
      const held = await locks.acquire(key, deadline ?? this.now() + this.options.answerTimeoutMs);
      if (held) return { release: () => held.release() };
      failure = new AssistantError('timeout', 'another instance was still answering this conversation at the deadline');
    } catch (err) {
      failure = err instanceof Error ? err : new StorageError(String(err));
    }
    logger.warn('conversation lock not had; the turn fails', { conversationKey: key, err: String(failure) });
    return { failure };
  }

  /** Resolves when every queued turn has settled (graceful stop). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  /**
   * Removes every expired session and deletes the vendor's copy of those conversations where
   * the backend can (bounded per sweep, in the background). Run by the retention purge.
   */
  sweepExpired(): Promise<ExpirySweep> {
    return this.expired.sweep();
  }

  /** Resolves once the upstream deletes of earlier sweeps are done (tests, graceful stop). */
  expirySettled(): Promise<void> {
    return this.expired.settled();
  }

  /** Cancels background work that outlives a turn (upstream deletes of expired conversations). */
  stop(): Promise<void> {
    return this.expired.stop();
  }

  /** Questions at the model service and waiting for a slot; conversations with a turn in line. */
  load(): { running: number; waiting: number; conversations: number } {
    return { running: this.slots.inUse, waiting: this.slots.waiting, conversations: this.queue.activeKeys };
  }

  private async answer(request: AskRequest): Promise<AskResult> {
    const { key, signal } = request;
    const deadline = request.deadline ?? this.now() + this.options.answerTimeoutMs;
    const log = this.options.logger.child({ conversationKey: key, ...request.logContext });
    // The asker left while the question waited for its turn: nothing of it reaches the model.
    if (signal?.aborted) throw cancelledBeforeRun(log);
    const release = await this.slots.acquire(deadline, signal, request.runClass).catch((err: unknown) => {
      throw signal?.aborted ? cancelledBeforeRun(log) : err;
    });
    try {
      return await this.askBackend(request, deadline, log);
    } finally {
      release();
    }
  }

  private async askBackend(request: AskRequest, deadline: number, log: Logger): Promise<AskResult> {
    const { backend } = this.options;
    const { key } = request;
    const started = this.now();
    const session = await this.options.sessions.get(key);
    // State another backend wrote (the school switched backends) means nothing to this one.
    const state = session?.backend === backend.name ? session.state : undefined;
    // A question whose answer could not be kept must not cost a model run: the store proves it
    // takes a write before the backend is asked (a full disk or a read-only file stops it here).
    await this.options.sessions.checkWritable();
    // Students' words are logged at debug only (README: 日志); info lines carry ids and timings.
    log.debug('question text', { question: request.text });
    try {
      const result = await backend.ask({
        state,
        text: request.text,
        user: pseudonymOf(key, this.options.pseudonymKey),
        requestId: request.requestId,
        systemPrompt: request.systemPrompt,
        role: request.role,
        deadline,
        signal: request.signal,
        logContext: { conversationKey: key, ...request.logContext },
        onCheckpoint: (checkpoint) => this.save(key, checkpoint),
        onText: request.onText,
      });
      const answer = capAnswer(result.answer, this.options.maxAnswerChars);
      const refusal = request.screenAnswer?.(answer);
      if (refusal) {
        await this.discardTurn(key, session, result.state);
        throw refusal;
      }
      await this.save(key, result.state);
      this.options.metrics?.backendRequests.inc({ backend: backend.name, outcome: 'answered' });
      const newConversation = state === undefined;
      log.info('answered', { backend: backend.name, newConversation, durationMs: this.now() - started, usage: result.usage });
      log.debug('answer text', { answer });
      return { answer, newConversation, usage: result.usage };
    } catch (err) {
      // The backend says what a failed question leaves behind (a run still active upstream);
      // otherwise the conversation stays exactly as it was before the question.
      if (err instanceof AssistantError && err.state) await this.save(key, err.state).catch(() => undefined);
      const kind = err instanceof AssistantError ? err.kind : 'error';
      this.options.metrics?.backendRequests.inc({ backend: backend.name, outcome: kind });
      log.warn('question failed', { backend: backend.name, kind, durationMs: this.now() - started, err: String(err) });
      throw err;
    }
  }

  /**
   * Keeps a refused answer's turn out of the conversation. A backend without history upstream
   * (no `forget`) holds the whole history in its state: the state from before the question is
   * put back. One that keeps history upstream cannot drop one turn there, so the conversation
   * starts over and its upstream copy is deleted.
   */
  private async discardTurn(key: ConversationKey, before: SessionRecord | undefined, after: BackendState): Promise<void> {
    if (this.options.backend.forget) {
      await this.options.sessions.delete(key);
      this.forgetUpstream(key, after);
    } else if (before) {
      await this.options.sessions.set(key, before, this.options.sessionTtlMs);
    } else {
      await this.options.sessions.delete(key);
    }
  }

  /** Drops the session; the backend may delete its upstream copy (in the background). */
  private async forget(key: ConversationKey): Promise<void> {
    const session = await this.options.sessions.get(key);
    await this.options.sessions.delete(key);
    if (session && session.backend === this.options.backend.name) this.forgetUpstream(key, session.state);
  }

  private forgetUpstream(key: ConversationKey, state: BackendState): void {
    const { backend, logger } = this.options;
    if (!backend.forget) return;
    const user = pseudonymOf(key, this.options.pseudonymKey);
    void backend
      .forget(state, { user, deadline: this.now() + this.options.answerTimeoutMs, logContext: { conversationKey: key } })
      .catch((err: unknown) => logger.warn('could not delete the conversation upstream', { conversationKey: key, err: String(err) }));
  }

  private save(key: ConversationKey, state: BackendState): Promise<void> {
    const record = { backend: this.options.backend.name, state, lastActiveAt: this.now() };
    return this.options.sessions.set(key, record, this.options.sessionTtlMs);
  }
}

/** A turn whose every step fails with `failure` (the conversation could not be had). */
function failedTurn(key: ConversationKey, failure: Error): ConversationTurn {
  return { key, ask: () => Promise.reject(failure), reset: () => Promise.reject(failure) };
}

function cancelledBeforeRun(log: Logger): AssistantError {
  log.info('question dropped before its run: the asker went away');
  return new AssistantError('cancelled', 'the asker went away before the question was asked');
}

function closedTurn(): Promise<never> {
  return Promise.reject(new Error('this conversation turn has ended'));
}
