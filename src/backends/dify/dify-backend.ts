import type { AskInput, AssistantBackend, BackendAnswer, CallOptions, BackendState, ForgetOptions } from '../assistant-backend.js';
import type { Logger } from '../../logger.js';
import { checkByAsking } from '../check-by-asking.js';
import { sendJson } from '../model-http/json-request.js';
import { logAskFailure } from '../model-http/log-ask-failure.js';
import { createModelTarget } from '../model-http/model-target.js';
import type { ModelTimeouts } from '../model-http/model-timeouts.js';
import { QuestionBudget } from '../question-budget.js';
import { runWithRetries } from '../model-http/run-with-retries.js';
import { type DifyTarget, sendChatMessage } from './dify-chat.js';
import { isConversationMissing } from './dify-errors.js';
import type { DifyStreamResult } from './dify-events.js';
import { answeredState, type DifyState, readDifyState, withoutConversation } from './dify-state.js';

export interface DifyBackendOptions {
  /** DIFY_BASE_URL, e.g. `https://api.dify.ai/v1` (no trailing slash). */
  readonly baseUrl: string;
  /** DIFY_API_KEY (the app's key): sent as `Authorization: Bearer`, never logged. */
  readonly apiKey: string;
  readonly maxSockets: number;
  readonly logger: Logger;
  /** Transfer limits (tests shorten them); the question's deadline bounds them anyway. */
  readonly timeouts?: Partial<ModelTimeouts>;
}

/** A DELETE is one short call; the caller's deadline usually ends it first. */
const FORGET_TIMEOUT_MS = 10_000;

/** What one question knows about its conversation while it runs. */
interface QuestionConversation {
  id?: string;
  /** The state stored with `onCheckpoint` when Dify opened a new conversation. */
  checkpointed?: DifyState;
  /** Dify had lost the stored conversation; it was asked again in a new one. */
  replaced: boolean;
}

/**
 * A Dify chat, agent or chatflow app as an `AssistantBackend`. Dify keeps the conversation;
 * the state holds its id, checkpointed as soon as a new one appears so a failure or a crash
 * later in the question does not lose it.
 */
export function createDifyBackend(options: DifyBackendOptions): AssistantBackend {
  return new DifyBackend(options);
}

class DifyBackend implements AssistantBackend {
  readonly name = 'dify';
  private readonly target: DifyTarget;

  constructor(private readonly options: DifyBackendOptions) {
    this.target = createModelTarget(options);
  }

  async ask(input: AskInput): Promise<BackendAnswer> {
    const started = Date.now();
    const log = this.options.logger.child({ ...input.logContext, backend: this.name });
    const state = readDifyState(input.state);
    if (input.requestId !== undefined && input.requestId === state.lastRequestId && state.lastAnswer !== undefined) {
      log.info('model answer replayed', { requestId: input.requestId });
      return { answer: state.lastAnswer, state: input.state ?? state };
    }
    const budget = new QuestionBudget(input.deadline, input.signal);
    const conversation: QuestionConversation = { id: state.conversationId, replaced: false };
    try {
      const result = await runWithRetries(budget, log, () => this.attempt(input, state, conversation, budget, log));
      const conversationId = result.conversationId ?? conversation.id;
      log.info('model answered', {
        durationMs: Date.now() - started,
        attempts: budget.attempts,
        usage: result.usage,
        newConversation: conversationId !== state.conversationId,
      });
      return {
        answer: result.answer,
        state: answeredState(conversationId, input.requestId, result.answer),
        ...(result.usage ? { usage: result.usage } : {}),
      };
    } catch (err) {
      const error = logAskFailure(log, err, { attempts: budget.attempts, durationMs: Date.now() - started });
      const keep = conversation.checkpointed ?? (conversation.replaced ? withoutConversation(state) : undefined);
      throw error.withState(keep);
    }
  }

  async forget(state: BackendState, options: ForgetOptions): Promise<void> {
    const { conversationId } = readDifyState(state);
    if (!conversationId) return;
    const log = this.options.logger.child({ ...options.logContext, backend: this.name });
    try {
      const res = await sendJson(
        this.target.client,
        {
          method: 'DELETE',
          url: `${this.target.baseUrl}/conversations/${encodeURIComponent(conversationId)}`,
          headers: { Authorization: `Bearer ${this.options.apiKey}` },
          body: { user: options.user },
          timeoutMs: FORGET_TIMEOUT_MS,
        },
        new QuestionBudget(options.deadline, options.signal),
      );
      // 404: already gone (deleted before, or never created for this user).
      if (res.status === 200 || res.status === 204 || res.status === 404) {
        log.info('model conversation forgotten', { status: res.status });
      } else {
        log.warn('model conversation could not be forgotten', { status: res.status });
      }
    } catch (err) {
      const kind = (err as { kind?: unknown }).kind;
      log.warn('model conversation could not be forgotten', { kind: typeof kind === 'string' ? kind : 'failed' });
    }
  }

  /** One-word question in a throwaway conversation (doctor, /healthz). */
  check(options: CallOptions): Promise<void> {
    return checkByAsking(this, options);
  }

  close(): void {
    this.target.client.close();
  }

  /** One try; a conversation Dify no longer has is replaced by a new one, once per question. */
  private async attempt(
    input: AskInput,
    state: DifyState,
    conversation: QuestionConversation,
    budget: QuestionBudget,
    log: Logger,
  ): Promise<DifyStreamResult> {
    const hooks = {
      onText: input.onText,
      onConversationId: (id: string) => this.noteConversation(input, state, conversation, id, log),
    };
    try {
      return await sendChatMessage(this.target, input, conversation.id, budget, hooks);
    } catch (err) {
      if (!isConversationMissing(err) || conversation.replaced || !conversation.id) throw err;
      log.warn('model conversation not found upstream; starting a new one');
      conversation.replaced = true;
      conversation.id = undefined;
      return sendChatMessage(this.target, input, undefined, budget, hooks);
    }
  }

  /** Checkpoints a conversation id the question opened, once, before anything else can fail. */
  private async noteConversation(
    input: AskInput,
    state: DifyState,
    conversation: QuestionConversation,
    id: string,
    log: Logger,
  ): Promise<void> {
    if (conversation.id === id) return;
    conversation.id = id;
    if (id === state.conversationId) return;
    const next: DifyState = { ...withoutConversation(state), conversationId: id };
    conversation.checkpointed = next;
    try {
      await input.onCheckpoint?.(next);
    } catch (err) {
      // The answer matters more than the checkpoint; the final state carries the id anyway.
      log.warn('checkpoint of the new conversation failed', { err: err instanceof Error ? err.message : String(err) });
    }
  }
}
