import type { Logger } from '../../logger.js';
import { capAnswer } from '../answer-limit.js';
import type { CallBudget } from './call-budget.js';
import { withRetry } from './upstream-call.js';
import { messagesPath, type WireList, type WireMessage } from './wire-types.js';

const ANSWER_ROLES = new Set(['assistant', 'tool']);

/**
 * The text of a run's messages (reference §2.2, D1 recipe): roles `assistant` and `tool`,
 * ascending `createdAt`, every `text` item joined; unknown item types are skipped.
 */
export function extractAnswer(messages: readonly WireMessage[]): string {
  return messages
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => ANSWER_ROLES.has(m.role ?? ''))
    .sort((a, b) => (a.m.createdAt ?? 0) - (b.m.createdAt ?? 0) || a.i - b.i)
    .map(({ m }) => messageText(m).trim())
    .filter((t) => t !== '')
    .join('\n\n');
}

export function messageText(message: WireMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((item) => item?.type === 'text' && typeof item.text?.value === 'string')
    .map((item) => item.text!.value!)
    .join('\n');
}

/** Lists the messages of `runId` (one call) and extracts the answer, cut at `maxChars` (ANSWER_MAX_CHARS). */
export async function readRunAnswer(
  budget: CallBudget,
  logger: Logger,
  threadId: string,
  runId: string,
  maxChars?: number,
): Promise<string> {
  const list = await withRetry(
    budget,
    logger,
    () =>
      budget.request<WireList<WireMessage>>({
        method: 'GET',
        path: messagesPath(threadId),
        query: { runId, order: 'asc', limit: 100 },
      }),
    { what: 'list run messages', idempotent: true },
  );
  return capAnswer(extractAnswer(list?.data ?? []), maxChars);
}
