import { AssistantError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { readRunAnswer } from './answer-reader.js';
import type { CallBudget } from './call-budget.js';
import { pollRun, type PollTiming } from './run-poller.js';
import { readRunStream } from './run-stream.js';
import { withRetry } from './upstream-call.js';
import { findRunSince } from './upstream-state.js';
import { runsPath, type WireRun } from './wire-types.js';

/** One question's run, from creating it to its answer. */
export interface RunContext {
  readonly budget: CallBudget;
  readonly log: Logger;
  readonly threadId: string;
  readonly assistantId: string;
  readonly timing: PollTiming;
  /** Upstream time of our question: a run at least this new is ours. */
  readonly since: number;
  /** Reports the run id (the `run-started` checkpoint) as soon as it is known. */
  readonly onRunId: (runId: string) => Promise<void>;
  /** Set when a broken stream made us poll instead. */
  fallback: boolean;
  /** The answer so far, while the run streams (AI cards); polling has nothing to report. */
  readonly onText?: (textSoFar: string) => void;
  /** ANSWER_MAX_CHARS: longer answers are cut with a note. */
  readonly maxAnswerChars?: number;
}

export interface RunAnswer {
  readonly answer: string;
  readonly runId: string;
}

/** Why a run ended without an answer; kept as the error's cause, for logs only. */
export interface RunEnd {
  readonly runStatus?: string;
  readonly lastErrorMsg?: string;
}

/** Creates a streaming run and takes the answer from its events; polls if the stream breaks. */
export async function answerByStream(ctx: RunContext): Promise<RunAnswer> {
  const { budget, log, threadId } = ctx;
  const opened = await withRetry<{ stream?: NodeJS.ReadableStream; run?: WireRun }>(
    budget,
    log,
    async () => ({
      stream: await budget.openStream({
        method: 'POST',
        path: runsPath(threadId),
        body: { assistantId: ctx.assistantId, stream: true },
      }),
    }),
    { what: 'create run', idempotent: false, verify: async () => wrapRun(await findRunSince(budget, log, threadId, ctx.since)) },
  );
  if (opened.run?.id) {
    await ctx.onRunId(opened.run.id);
    return { answer: await pollAndRead(ctx, opened.run.id, 0), runId: opened.run.id };
  }
  const outcome = await readRunStream(opened.stream!, budget, ctx.onRunId, ctx.onText, ctx.maxAnswerChars);
  if (outcome.status === 'completed' && outcome.runId) {
    const answer = outcome.answer || (await readRunAnswer(budget, log, threadId, outcome.runId, ctx.maxAnswerChars));
    return { answer: requireText(answer), runId: outcome.runId };
  }
  if (outcome.status === 'failed') assertCompleted(outcome.endStatus ?? 'failed', outcome.lastErrorMsg);
  // The stream broke or ended oddly; the run lives on upstream, so poll it instead.
  ctx.fallback = true;
  log.warn('run stream ended early; polling the run', { runId: outcome.runId, reason: 'reason' in outcome ? outcome.reason : outcome.status });
  let runId = outcome.runId;
  if (!runId) {
    // Never start a second run blindly: the question is already in the thread.
    runId = (await findRunSince(budget, log, threadId, ctx.since))?.id;
    if (!runId) throw new AssistantError('unavailable', 'the run stream broke before the run id was known');
    await ctx.onRunId(runId);
  }
  return { answer: await pollAndRead(ctx, runId, 0), runId };
}

/** Creates a run without streaming, polls it and reads its messages. */
export async function answerByPolling(ctx: RunContext): Promise<RunAnswer> {
  const { budget, log, threadId } = ctx;
  const run = await withRetry(
    budget,
    log,
    () => budget.request<WireRun>({ method: 'POST', path: runsPath(threadId), body: { assistantId: ctx.assistantId } }),
    { what: 'create run', idempotent: false, verify: () => findRunSince(budget, log, threadId, ctx.since) },
  );
  if (!run?.id) throw new AssistantError('unavailable', 'create run answered without an id');
  await ctx.onRunId(run.id);
  return { answer: await pollAndRead(ctx, run.id, ctx.timing.firstDelayMs), runId: run.id };
}

/** Waits for a run to end, then reads its answer with list-messages (polling, resume, fallback). */
export async function pollAndRead(ctx: RunContext, runId: string, firstDelayMs: number): Promise<string> {
  const run = await pollRun(ctx.budget, ctx.log, ctx.threadId, runId, { ...ctx.timing, firstDelayMs });
  assertCompleted(run.status, run.lastErrorMsg);
  return requireText(await readRunAnswer(ctx.budget, ctx.log, ctx.threadId, runId, ctx.maxAnswerChars));
}

function assertCompleted(status: string | undefined, lastErrorMsg: string | undefined): void {
  if (status === 'completed') return;
  const cause: RunEnd = { runStatus: status, lastErrorMsg };
  // Upstream text stays in the cause (logged), never in the message a user might see.
  throw new AssistantError('failed', `the run ended with status ${status ?? 'unknown'}`, { cause });
}

function requireText(answer: string): string {
  if (answer.trim() === '') throw new AssistantError('failed', 'the run completed without a text answer');
  return answer;
}

function wrapRun(run: WireRun | undefined): { run: WireRun } | undefined {
  return run ? { run } : undefined;
}
