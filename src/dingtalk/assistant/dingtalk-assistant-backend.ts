import type {
  AskInput,
  AssistantBackend,
  BackendAnswer,
  CallOptions,
  ResumeInput,
  RunCheckpoint,
} from '../../assistant/assistant-backend.js';
import type { Config } from '../../config.js';
import { AssistantError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { DingTalkApi } from '../dingtalk-api.js';
import { readRunAnswer } from './answer-reader.js';
import { CallBudget } from './call-budget.js';
import { classifyDingTalkError, verdictError } from './retry-policy.js';
import { DEFAULT_POLL_TIMING, pollRun, type PollTiming } from './run-poller.js';
import { readRunStream } from './run-stream.js';
import { withRetry } from './upstream-call.js';
import { findAddedMessage, findRunSince } from './upstream-state.js';
import { messagesPath, runsPath, threadsPath, type WireMessage, type WireRun, type WireThread } from './wire-types.js';

export interface DingTalkAssistantBackendDeps {
  readonly api: DingTalkApi;
  readonly config: Config;
  readonly logger: Logger;
  /** Poll pacing (tests may shorten it). */
  readonly pollTiming?: PollTiming;
}

/** DingTalk's own limit on a user message (reference §2.2). */
const MAX_CONTENT_CHARS = 4000;

/** Why a run ended without an answer; kept as the error's cause, for logs only. */
interface RunEnd {
  readonly runStatus?: string;
  readonly lastErrorMsg?: string;
}

interface AskContext {
  readonly budget: CallBudget;
  readonly log: Logger;
  readonly threadId: string;
  /** Upstream time of our question: a run at least this new is ours. */
  readonly since: number;
  readonly onRunId: (runId: string) => Promise<void>;
  fallback: boolean;
}

/**
 * The DingTalk AI assistant (Threads API) as an `AssistantBackend`. A question costs two calls
 * when streaming (add message, create run with SSE); polling adds retrieve-run and
 * list-messages. Non-idempotent POSTs are never repeated after an ambiguous failure without
 * first checking upstream, so a question reaches the assistant once.
 */
export function createDingTalkAssistantBackend(deps: DingTalkAssistantBackendDeps): AssistantBackend {
  const { api, config, logger } = deps;
  const timing = deps.pollTiming ?? DEFAULT_POLL_TIMING;
  const budgetFor = (o: CallOptions) => new CallBudget(api, o.deadline, o.signal, config.dingtalk.timeoutMs);

  const pollAndRead = async (ctx: AskContext, runId: string, firstDelayMs: number): Promise<string> => {
    const run = await pollRun(ctx.budget, ctx.log, ctx.threadId, runId, { ...timing, firstDelayMs });
    assertCompleted(run.status, run.lastErrorMsg);
    return requireText(await readRunAnswer(ctx.budget, ctx.log, ctx.threadId, runId));
  };

  const askStreaming = async (ctx: AskContext): Promise<{ answer: string; runId: string }> => {
    const { budget, log, threadId } = ctx;
    const opened = await withRetry<{ stream?: NodeJS.ReadableStream; run?: WireRun }>(
      budget,
      log,
      async () => ({
        stream: await budget.openStream({
          method: 'POST',
          path: runsPath(threadId),
          body: { assistantId: config.assistant.assistantId, stream: true },
        }),
      }),
      { what: 'create run', idempotent: false, verify: async () => wrapRun(await findRunSince(budget, log, threadId, ctx.since)) },
    );
    if (opened.run?.id) {
      await ctx.onRunId(opened.run.id);
      return { answer: await pollAndRead(ctx, opened.run.id, 0), runId: opened.run.id };
    }
    const outcome = await readRunStream(opened.stream!, budget, ctx.onRunId);
    if (outcome.status === 'completed' && outcome.runId) {
      const answer = outcome.answer || (await readRunAnswer(budget, log, threadId, outcome.runId));
      return { answer: requireText(answer), runId: outcome.runId };
    }
    if (outcome.status === 'failed') assertCompleted(outcome.endStatus ?? 'failed', outcome.lastErrorMsg);
    // The stream broke (or ended oddly): the run lives on upstream, so poll it instead.
    ctx.fallback = true;
    log.warn('run stream ended early; polling the run', { runId: outcome.runId, reason: reasonOf(outcome) });
    let runId = outcome.runId;
    if (!runId) {
      runId = (await findRunSince(budget, log, threadId, ctx.since))?.id;
      if (!runId) throw new AssistantError('unavailable', 'the run stream broke before the run id was known');
      await ctx.onRunId(runId);
    }
    return { answer: await pollAndRead(ctx, runId, 0), runId };
  };

  const askPolling = async (ctx: AskContext): Promise<{ answer: string; runId: string }> => {
    const { budget, log, threadId } = ctx;
    const run = await withRetry(
      budget,
      log,
      () =>
        budget.request<WireRun>({
          method: 'POST',
          path: runsPath(threadId),
          body: { assistantId: config.assistant.assistantId },
        }),
      { what: 'create run', idempotent: false, verify: () => findRunSince(budget, log, threadId, ctx.since) },
    );
    if (!run?.id) throw new AssistantError('unavailable', 'create run answered without an id');
    await ctx.onRunId(run.id);
    return { answer: await pollAndRead(ctx, run.id, timing.firstDelayMs), runId: run.id };
  };

  return {
    name: 'dingtalk-assistant',

    async createThread(options) {
      const budget = budgetFor(options);
      const log = logger.child({ ...options.logContext });
      try {
        // Retried even after ambiguous failures: a duplicate empty thread is harmless.
        const thread = await withRetry(
          budget,
          log,
          () => budget.request<WireThread>({ method: 'POST', path: threadsPath, body: {} }),
          { what: 'create thread', idempotent: true },
        );
        if (!thread?.id) throw new AssistantError('unavailable', 'create thread answered without an id');
        log.info('assistant thread created', { threadId: thread.id, upstreamCalls: budget.calls });
        return thread.id;
      } catch (err) {
        throw logFailure(log, 'create thread failed', err, budget, {});
      }
    },

    async ask(input: AskInput): Promise<BackendAnswer> {
      const started = Date.now();
      const budget = budgetFor(input);
      const log = logger.child({ ...input.logContext, threadId: input.threadId });
      let runId: string | undefined;
      const mode = config.assistant.streaming ? 'stream' : 'poll';
      try {
        assertQuestion(input.text);
        const message = await addUserMessage(budget, log, input.threadId, input.text);
        await report(log, input.onProgress, { step: 'message-added', messageId: message.id });
        const ctx: AskContext = {
          budget,
          log,
          threadId: input.threadId,
          since: message.createdAt ?? started - 60_000,
          fallback: false,
          onRunId: async (id) => {
            runId = id;
            await report(log, input.onProgress, { step: 'run-started', runId: id });
          },
        };
        const result = mode === 'stream' ? await askStreaming(ctx) : await askPolling(ctx);
        log.info('assistant answered', {
          runId: result.runId,
          mode,
          fallback: ctx.fallback || undefined,
          durationMs: Date.now() - started,
          upstreamCalls: budget.calls,
        });
        return result;
      } catch (err) {
        throw logFailure(log, 'assistant ask failed', err, budget, { runId, mode, durationMs: Date.now() - started });
      }
    },

    async resume(input: ResumeInput): Promise<BackendAnswer> {
      const started = Date.now();
      const budget = budgetFor(input);
      const log = logger.child({ ...input.logContext, threadId: input.threadId });
      const ctx: AskContext = { budget, log, threadId: input.threadId, since: 0, fallback: false, onRunId: async () => {} };
      try {
        const answer = await pollAndRead(ctx, input.runId, 0);
        log.info('assistant run resumed and answered', {
          runId: input.runId,
          durationMs: Date.now() - started,
          upstreamCalls: budget.calls,
        });
        return { answer, runId: input.runId };
      } catch (err) {
        throw logFailure(log, 'assistant resume failed', err, budget, { runId: input.runId });
      }
    },
  };
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

function assertQuestion(text: string): void {
  if (text.trim() === '') throw new AssistantError('rejected', 'the question is empty');
  if (text.length > MAX_CONTENT_CHARS) {
    throw new AssistantError('rejected', `the question is longer than ${MAX_CONTENT_CHARS} characters`);
  }
}

function assertCompleted(status: string | undefined, lastErrorMsg: string | undefined): void {
  if (status === 'completed') return;
  const cause: RunEnd = { runStatus: status, lastErrorMsg };
  throw new AssistantError('failed', `the run ended with status ${status ?? 'unknown'}`, { cause });
}

function requireText(answer: string): string {
  if (answer.trim() === '') throw new AssistantError('failed', 'the run completed without a text answer');
  return answer;
}

/** Checkpoints are best effort: a failing callback must not lose an answer already underway. */
async function report(
  log: Logger,
  onProgress: AskInput['onProgress'],
  checkpoint: RunCheckpoint,
): Promise<void> {
  try {
    await onProgress?.(checkpoint);
  } catch (err) {
    log.warn('progress callback failed', { step: checkpoint.step, err: String(err) });
  }
}

function wrapRun(run: WireRun | undefined): { run: WireRun } | undefined {
  return run ? { run } : undefined;
}

function reasonOf(outcome: { status: string; reason?: string }): string {
  return outcome.reason ?? outcome.status;
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
    upstreamCalls: budget.calls,
  });
  return error;
}
