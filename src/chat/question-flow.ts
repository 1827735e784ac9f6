import type { TokenUsage } from '../backends/assistant-backend.js';
import type { ConversationTurn } from '../engine/types.js';
import { StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { QuestionPolicy } from '../policy/question-policy.js';
import { parseTeacherCommand } from '../policy/teacher-commands.js';
import type { AuditOutcome } from '../storage/audit-trail.js';
import { answerQuestion, type QuestionReply } from './answer-question.js';
import type { ChatMessage, ChatReplier } from './chat-message.js';
import { CHAT_TEXTS } from './chat-texts.js';
import type { ThinkingNoticeRation } from './thinking-notice-ration.js';

export interface QuestionFlowInput {
  readonly turn: ConversationTurn;
  readonly message: ChatMessage;
  /** The question as written. */
  readonly text: string;
  readonly policy: QuestionPolicy;
  readonly replier: ChatReplier;
  readonly thinkingNoticeMs: number;
  /** Rations thinking notices in groups (THINKING_NOTICE_GROUP_SECONDS). */
  readonly noticeRation?: ThinkingNoticeRation;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** What the audit trail keeps about a chat question (the chat handler adds when it started). */
export interface QuestionAudit {
  readonly outcome: AuditOutcome;
  readonly usage?: TokenUsage;
  readonly question?: string;
  readonly answer?: string;
}

/** What to do with a chat question. */
export interface QuestionOutcome {
  /** What to send; undefined sends nothing (a one-time notice was given before). */
  readonly text?: string;
  /** Set when the model was asked: the streamed draft to finish, and whether it failed. */
  readonly reply?: QuestionReply;
  /** Undefined for a teacher's command (commands are not questions). */
  readonly audit?: QuestionAudit;
  /** Work to wait for once the reply is out (a counsellor alert). */
  readonly afterReply?: Promise<void>;
}

/**
 * A chat question through school policy: a teacher's command is run; otherwise the checks
 * decide (crisis, quiet hours, exam, blocked words, quota) and, if the question may go on, the
 * model is asked with the asker's role and prompt. Throws `HandlingCancelled` on shutdown.
 */
export async function decideQuestion(input: QuestionFlowInput): Promise<QuestionOutcome> {
  const { turn, message, text, policy, log } = input;
  const asker = policy.chatAsker(message, turn.key);
  const command = parseTeacherCommand(text);
  try {
    if (command) return { text: await policy.commands.run(command, asker) };
    const screening = await policy.screen(asker, text);
    if (screening.kind === 'stop') {
      const { outcome, reply, afterReply } = screening.stop;
      log.info('question stopped by school policy', { outcome, role: asker.role, replied: reply !== undefined });
      return { text: reply, audit: { outcome }, afterReply };
    }
    const giveBack = () => screening.undo?.().catch((err: unknown) => log.warn('could not give back the quota question', { err: String(err) }));
    let reply: QuestionReply;
    try {
      reply = await answerQuestion({ ...input, ask: screening });
    } catch (err) {
      await giveBack(); // stopping: the question is asked again (and counted) after the restart
      throw err;
    }
    if (reply.failed && reply.outcome !== 'blocked') await giveBack();
    const audit = { outcome: reply.outcome, usage: reply.usage, question: screening.text, answer: reply.answer };
    return { text: reply.text, reply, audit };
  } catch (err) {
    if (!isStorageFailure(err)) throw err;
    // Quotas, exams and notices live in the storage: without it, say so instead of guessing.
    log.error('school policy could not read or write its storage', { err: String(err) });
    return { text: CHAT_TEXTS.unavailable, audit: command ? undefined : { outcome: 'unavailable' } };
  }
}

function isStorageFailure(err: unknown): boolean {
  return err instanceof StorageError;
}
