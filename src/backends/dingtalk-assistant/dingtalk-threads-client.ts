import type { CallOptions } from '../assistant-backend.js';
import { AssistantError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { DingTalkApi } from '../../dingtalk/dingtalk-api.js';
import { checkAssistantId } from './assistant-check.js';
import { CallBudget } from './call-budget.js';
import { classifyDingTalkError, verdictError } from './retry-policy.js';
import { answerByPolling, answerByStream, pollAndRead, type RunContext, type RunEnd } from './run-flows.js';
import { DEFAULT_POLL_TIMING, type PollTiming } from './run-poller.js';
import { withRetry } from './upstream-call.js';
import { findAddedMessage, findQuestionState } from './upstream-state.js';
import type { ResumeInput, RunAnswer, RunCheckpoint, ThreadAskInput, ThreadsClient } from './threads-client.js';
import { messagesPath, threadPath, threadsPath, type WireMessage, type WireThread } from './wire-types.js';

export interface DingTalkThreadsClientDeps {
  readonly api: DingTalkApi;
  /** AI_ASSISTANT_ID. */
  readonly assistantId: string;
  /** ASSISTANT_STREAMING: SSE runs (true) or polling. */
  readonly streaming: boolean;
  /** DINGTALK_TIMEOUT_SECONDS: the longest a single call may take. */
  readonly callTimeoutMs: number;
  readonly logger: Logger;
  /** Poll pacing (tests may shorten it). */
  readonly pollTiming?: PollTiming;
  /** ANSWER_MAX_CHARS: an answer stops growing here and ends with a note that it was cut. */
  readonly maxAnswerChars?: number;
}

/** DingTalk's own limit on a user message (reference §2.2). */
const MAX_CONTENT_CHARS = 4000;

/**
 * The DingTalk AI assistant (Threads API) at the level of threads and runs. A question costs two calls
 * when streaming (add message, create run with SSE); polling adds retrieve-run and
 * list-messages. Non-idempotent POSTs are never repeated after an ambiguous failure without
 * first checking upstream, so a question reaches the assistant once.
 */
export function createDingTalkThreadsClient(deps: DingTalkThreadsClientDeps): ThreadsClient {
  return new DingTalkThreadsClient(deps);
}

class DingTalkThreadsClient implements ThreadsClient {
  private readonly timing: PollTiming;

  constructor(private readonly deps: DingTalkThreadsClientDeps) {
    this.timing = deps.pollTiming ?? DEFAULT_POLL_TIMING;
  }

  async createThread(options: CallOptions): Promise<string> {
    const budget = this.budgetFor(options);
    const log = this.deps.logger.child({ ...options.logContext });
    try {
      // Retried even after ambiguous failures: a duplicate empty thread is harmless.
      const thread = await withRetry(
        budget,
        log,
        () => budget.request<WireThread>({ method: 'POST', path: threadsPath, body: {} }),
        { what: 'create thread', idempotent: true },
      );
      if (!thread?.id) throw new AssistantError('unavailable', 'create thread answered without an id');
      log.info('assistant thread created', { threadId: thread.id, upstreamCalls: budget.attempts });
      return thread.id;
    } catch (err) {
      throw logFailure(log, 'create thread failed', err, budget, {});
    }
  }

  async ask(input: ThreadAskInput): Promise<RunAnswer> {
    const started = Date.now();
    const budget = this.budgetFor(input);
    const log = this.deps.logger.child({ ...input.logContext, threadId: input.threadId });
    const mode = this.deps.streaming ? 'stream' : 'poll';
    let runId: string | undefined;
    try {
      assertQuestion(input.text);
      const recovered = await recoverQuestion(budget, log, input);
      const message = recovered.message ?? (await addUserMessage(budget, log, input.threadId, input.text));
      if (!input.messageAlreadyAdded) {
        await report(log, input.onProgress, { step: 'message-added', messageId: message.id });
      }
      const ctx = this.runContext(budget, log, input.threadId, message.createdAt ?? started - 60_000, async (id) => {
        runId = id;
        await report(log, input.onProgress, { step: 'run-started', runId: id });
      }, input.onText);
      let result;
      if (recovered.runId) {
        // A run was started for this question before a crash: read it, never start another.
        await ctx.onRunId(recovered.runId);
        result = { answer: await pollAndRead(ctx, recovered.runId, 0), runId: recovered.runId };
      } else {
        result = mode === 'stream' ? await answerByStream(ctx) : await answerByPolling(ctx);
      }
      log.info('assistant answered', {
        runId: result.runId,
        mode,
        fallback: ctx.fallback || undefined,
        durationMs: Date.now() - started,
        upstreamCalls: budget.attempts,
      });
      return result;
    } catch (err) {
      throw logFailure(log, 'assistant ask failed', err, budget, { runId, mode, durationMs: Date.now() - started });
    }
  }

  async resume(input: ResumeInput): Promise<RunAnswer> {
    const started = Date.now();
    const budget = this.budgetFor(input);
    const log = this.deps.logger.child({ ...input.logContext, threadId: input.threadId });
    try {
      const ctx = this.runContext(budget, log, input.threadId, 0, async () => {});
      const answer = await pollAndRead(ctx, input.runId, 0);
      log.info('assistant run resumed and answered', {
        runId: input.runId,
        durationMs: Date.now() - started,
        upstreamCalls: budget.attempts,
      });
      return { answer, runId: input.runId };
    } catch (err) {
      throw logFailure(log, 'assistant resume failed', err, budget, { runId: input.runId });
    }
  }

  /** `DELETE /v1.0/assistant/threads/{id}` (reference §2.1): the thread and its messages go. */
  async deleteThread(threadId: string, options: CallOptions): Promise<void> {
    const budget = this.budgetFor(options);
    const log = this.deps.logger.child({ ...options.logContext, threadId });
    try {
      await withRetry(budget, log, () => budget.request<unknown>({ method: 'DELETE', path: threadPath(threadId) }), {
        what: 'delete thread',
        idempotent: true,
      });
      log.info('assistant thread deleted', { upstreamCalls: budget.attempts });
    } catch (err) {
      const error = err instanceof AssistantError ? err : verdictError(classifyDingTalkError(err), 'delete thread', err);
      if (error.kind === 'conversation_missing') return; // already gone upstream: what we wanted
      throw logFailure(log, 'delete thread failed', error, budget, {});
    }
  }

  checkAssistant(options: CallOptions): Promise<void> {
    return checkAssistantId({ api: this.deps.api, assistantId: this.deps.assistantId, callTimeoutMs: this.deps.callTimeoutMs }, options);
  }

  private budgetFor(options: CallOptions): CallBudget {
    return new CallBudget(this.deps.api, options.deadline, options.signal, this.deps.callTimeoutMs);
  }

  private runContext(
    budget: CallBudget,
    log: Logger,
    threadId: string,
    since: number,
    onRunId: (runId: string) => Promise<void>,
    onText?: (textSoFar: string) => void,
  ): RunContext {
    const { assistantId, maxAnswerChars } = this.deps;
    return { budget, log, threadId, assistantId, timing: this.timing, since, onRunId, fallback: false, onText, maxAnswerChars };
  }
}

async function addUserMessage(budget: CallBudget, log: Logger, threadId: string, text: string): Promise<WireMessage> {
  const message = await withRetry(
    budget,
    log,
    () =>
      budget.request<WireMessage>({
        method: 'POST',
        path: messagesPath(threadId),
        body: { role: 'user', content: text },
      }),
    { what: 'add message', idempotent: false, verify: () => findAddedMessage(budget, log, threadId, text) },
  );
  return message ?? {};
}

/**
 * Resuming after a crash mid-question: what of it is already upstream. `message` is set when
 * the text must not be added again, `runId` when a run for it was already started.
 */
async function recoverQuestion(
  budget: CallBudget,
  log: Logger,
  input: ThreadAskInput,
): Promise<{ message?: WireMessage; runId?: string }> {
  if (!input.messageAlreadyAdded && !input.messageMaybeAdded) return {};
  const found = await findQuestionState(budget, log, input.threadId, input.text);
  if (found.message) {
    log.info('question found upstream after a restart', { runId: found.run?.id });
    return { message: found.message, runId: found.run?.id };
  }
  // Recorded as added but not the newest question any more: trust the record, add nothing.
  return input.messageAlreadyAdded ? { message: {} } : {};
}

function assertQuestion(text: string): void {
  if (text.trim() === '') throw new AssistantError('rejected', 'the question is empty');
  if (text.length > MAX_CONTENT_CHARS) {
    throw new AssistantError('rejected', `the question is longer than ${MAX_CONTENT_CHARS} characters`);
  }
}

/** Checkpoints are best effort: a failing callback must not lose an answer already underway. */
async function report(log: Logger, onProgress: ThreadAskInput['onProgress'], checkpoint: RunCheckpoint): Promise<void> {
  try {
    await onProgress?.(checkpoint);
  } catch (err) {
    log.warn('progress callback failed', { step: checkpoint.step, err: String(err) });
  }
}

/** Turns any failure into an AssistantError and logs it once, with the upstream details. */
function logFailure(
  log: Logger,
  msg: string,
  err: unknown,
  budget: CallBudget,
  fields: Record<string, unknown>,
): AssistantError {
  const error = err instanceof AssistantError ? err : verdictError(classifyDingTalkError(err), 'assistant call', err);
  const end = error.cause as RunEnd | undefined;
  const level = error.kind === 'auth' || error.kind === 'rejected' ? 'error' : 'warn';
  log.log(level, msg, {
    ...fields,
    kind: error.kind,
    detail: error.message,
    upstreamCode: error.upstreamCode,
    status: error.status,
    runStatus: end?.runStatus,
    lastErrorMsg: end?.lastErrorMsg,
    upstreamCalls: budget.attempts,
  });
  return error;
}
