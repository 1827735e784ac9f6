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
  const list = await withRetry(
    budget,
    logger,
    () =>
      budget.request<WireList<WireMessage>>({
        method: 'GET',
        path: messagesPath(threadId),
        query: { order: 'desc', limit: 1 },
      }),
    { what: 'check the newest message', idempotent: true },
  );
  const newest = list?.data?.[0];
  return newest?.role === 'user' && messageText(newest) === text ? newest : undefined;
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
  const list = await withRetry(
    budget,
    logger,
    () =>
      budget.request<WireList<WireRun>>({
        method: 'GET',
        path: runsPath(threadId),
        query: { order: 'desc', limit: 1 },
      }),
    { what: 'check the newest run', idempotent: true },
  );
  const newest = list?.data?.[0];
  return newest?.id && (newest.createdAt ?? 0) >= sinceCreatedAt ? newest : undefined;
}
