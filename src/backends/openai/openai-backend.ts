import type { AskInput, AssistantBackend, BackendAnswer, CallOptions } from '../assistant-backend.js';
import type { Logger } from '../../logger.js';
import { checkByAsking } from '../check-by-asking.js';
import { createModelTarget } from '../model-http/model-target.js';
import { QuestionBudget } from '../question-budget.js';
import { runWithRetries } from '../model-http/run-with-retries.js';
import type { ModelTimeouts } from '../model-http/model-timeouts.js';
import { logAskFailure } from '../model-http/log-ask-failure.js';
import {
  chatMessages,
  halveHistory,
  historyState,
  type HistoryLimits,
  nextHistory,
  readHistory,
  replayedTurn,
  trimHistory,
  type Turn,
} from './chat-history.js';
import { type CompletionTarget, requestCompletion } from './chat-completion.js';
import type { CompletionResult } from './completion-stream.js';
import { isContextOverflow } from './openai-errors.js';

export interface OpenAiBackendOptions {
  /** OPENAI_BASE_URL, no trailing slash; requests go to `${baseUrl}/chat/completions`. */
  readonly baseUrl: string;
  /** OPENAI_API_KEY: sent as `Authorization: Bearer`, never logged. */
  readonly apiKey: string;
  /** OPENAI_MODEL. */
  readonly model: string;
  /** SYSTEM_PROMPT: first message of every request unless `AskInput.systemPrompt` overrides. */
  readonly systemPrompt: string;
  /** OPENAI_EXTRA_BODY, merged last into every body; a key set to null is removed. */
  readonly extraBody: Readonly<Record<string, unknown>>;
  /** HISTORY_MAX_TURNS: earlier turns sent with a question at most. */
  readonly historyMaxTurns: number;
  /** HISTORY_MAX_CHARS: characters of earlier turns sent at most. */
  readonly historyMaxChars: number;
  readonly maxSockets: number;
  readonly logger: Logger;
  /** Transfer limits (tests shorten them); the question's deadline bounds them anyway. */
  readonly timeouts?: Partial<ModelTimeouts>;
}

/**
 * Any OpenAI-compatible Chat Completions service (DashScope, DeepSeek, Kimi, Zhipu, Ollama,
 * vLLM...) as an `AssistantBackend`. The conversation is kept here, in the state, and sent
 * with each question within the history limits; a turn is stored only once it is answered.
 */
export function createOpenAiBackend(options: OpenAiBackendOptions): AssistantBackend {
  return new OpenAiBackend(options);
}

class OpenAiBackend implements AssistantBackend {
  readonly name = 'openai';
  private readonly target: CompletionTarget;
  private readonly limits: HistoryLimits;

  constructor(private readonly options: OpenAiBackendOptions) {
    this.target = { ...createModelTarget(options), model: options.model, extraBody: options.extraBody };
    this.limits = {
      maxTurns: Math.max(0, options.historyMaxTurns),
      maxChars: Math.max(0, options.historyMaxChars),
    };
  }

  async ask(input: AskInput): Promise<BackendAnswer> {
    const started = Date.now();
    const log = this.options.logger.child({ ...input.logContext, backend: this.name });
    const history = readHistory(input.state);
    const replayed = replayedTurn(history, input.requestId);
    if (replayed) {
      log.info('model answer replayed', { requestId: input.requestId });
      return { answer: replayed.a, state: input.state ?? historyState(history) };
    }
    const budget = new QuestionBudget(input.deadline, input.signal);
    const sent = { turns: trimHistory(history, this.limits) };
    try {
      const result = await runWithRetries(budget, log, () => this.attempt(input, sent, budget, log));
      const turn: Turn = { q: input.text, a: result.answer, ...(input.requestId ? { id: input.requestId } : {}) };
      if (result.finishReason === 'length') {
        log.warn('model answer reached the length limit', { model: this.options.model });
      }
      log.info('model answered', {
        model: this.options.model,
        durationMs: Date.now() - started,
        attempts: budget.attempts,
        historyTurns: sent.turns.length,
        usage: result.usage,
      });
      return {
        answer: result.answer,
        state: historyState(nextHistory(sent.turns, turn, this.limits)),
        ...(result.usage ? { usage: result.usage } : {}),
      };
    } catch (err) {
      throw logAskFailure(log, err, {
        model: this.options.model,
        attempts: budget.attempts,
        durationMs: Date.now() - started,
      });
    }
  }

  /** One-word question in a throwaway conversation (doctor, /healthz). */
  check(options: CallOptions): Promise<void> {
    return checkByAsking(this, options);
  }

  close(): void {
    this.target.client.close();
  }

  /** One try; a context overflow is retried at once with half the turns, once per question. */
  private async attempt(
    input: AskInput,
    sent: { turns: Turn[]; halved?: boolean },
    budget: QuestionBudget,
    log: Logger,
  ): Promise<CompletionResult> {
    const systemPrompt = input.systemPrompt ?? this.options.systemPrompt;
    try {
      const messages = chatMessages(systemPrompt, sent.turns, input.text);
      return await requestCompletion(this.target, messages, budget, input.onText);
    } catch (err) {
      if (!isContextOverflow(err) || sent.halved || sent.turns.length === 0) throw err;
      sent.halved = true;
      sent.turns = halveHistory(sent.turns);
      log.warn('model context overflowed; retrying with half the history', { historyTurns: sent.turns.length });
      return requestCompletion(this.target, chatMessages(systemPrompt, sent.turns, input.text), budget, input.onText);
    }
  }
}
