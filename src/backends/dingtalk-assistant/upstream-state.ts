import type { Logger } from '../../logger.js';
import type { CallBudget } from './call-budget.js';
import { messageText } from './answer-reader.js';
import { withRetry } from './upstream-call.js';
import { messagesPath, runsPath, type WireList, type WireMessage, type WireRun } from './wire-types.js';

/**
 * Looks upstream after an ambiguous add-message failure: is the newest message already our
 * question? Then it must not be added again.
 */
export async function findAddedMessage(
  budget: CallBudget,
  logger: Logger,
  threadId: string,
  text: string,
): Promise<WireMessage | undefined> {
  const newest = await newestOf<WireMessage>(budget, logger, messagesPath(threadId), 'check the newest message');
  return newest?.role === 'user' && messageText(newest) === text ? newest : undefined;
}

/**
 * After a crash while asking: our question in the thread (the newest user message, when its
 * text is ours) and the run started for it, if any. The thread runs one question at a time, so
 * a run at least as new as that message is the one started for it.
 */
export async function findQuestionState(
  budget: CallBudget,
  logger: Logger,
  threadId: string,
  text: string,
): Promise<{ message?: WireMessage; run?: WireRun }> {
  const list = await withRetry(
    budget,
    logger,
    () => budget.request<WireList<WireMessage>>({ method: 'GET', path: messagesPath(threadId), query: { order: 'desc', limit: 20 } }),
    { what: 'check the question', idempotent: true },
  );
  const lastQuestion = list?.data?.find((m) => m.role === 'user');
  if (!lastQuestion || messageText(lastQuestion) !== text) return {};
  if (lastQuestion.createdAt === undefined) return { message: lastQuestion };
  return { message: lastQuestion, run: await findRunSince(budget, logger, threadId, lastQuestion.createdAt) };
}

/**
 * Looks for a run created after our message (a run needs the newest message to be the user's,
 * so a run at least as new as our question is the one we started).
 */
export async function findRunSince(
  budget: CallBudget,
  logger: Logger,
  threadId: string,
  sinceCreatedAt: number,
): Promise<WireRun | undefined> {
  const newest = await newestOf<WireRun>(budget, logger, runsPath(threadId), 'check the newest run');
  return newest?.id && (newest.createdAt ?? 0) >= sinceCreatedAt ? newest : undefined;
}

/** The newest item of a DingTalk list endpoint (messages or runs), one read call. */
async function newestOf<T>(budget: CallBudget, logger: Logger, path: string, what: string): Promise<T | undefined> {
  const list = await withRetry(
    budget,
    logger,
    () => budget.request<WireList<T>>({ method: 'GET', path, query: { order: 'desc', limit: 1 } }),
    { what, idempotent: true },
  );
  return list?.data?.[0];
}
