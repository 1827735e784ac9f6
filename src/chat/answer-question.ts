import type { TokenUsage } from '../backends/assistant-backend.js';
import type { ConversationTurn } from '../engine/types.js';
import { AssistantError, BusyError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { failureOutcome } from '../policy/failure-outcome.js';
import type { QuestionPolicy } from '../policy/question-policy.js';
import type { Role } from '../policy/roles.js';
import type { AuditOutcome } from '../storage/audit-trail.js';
import type { AnswerDraft, ChatMessage, ChatReplier } from './chat-message.js';
import { assistantFailureText, CHAT_TEXTS } from './chat-texts.js';
import { ThinkingNotice } from './thinking-notice.js';
import type { ThinkingNoticeRation } from './thinking-notice-ration.js';

/** The question was abandoned because the process is stopping; nothing was replied. */
export class HandlingCancelled extends Error {
  constructor() {
    super('chat message handling cancelled by shutdown');
    this.name = 'HandlingCancelled';
  }
}

export interface AnswerInput {
  /** The conversation's turn this question runs in. */
  readonly turn: ConversationTurn;
  readonly replier: ChatReplier;
  readonly thinkingNoticeMs: number;
  /** Rations thinking notices in groups (THINKING_NOTICE_GROUP_SECONDS); absent: not rationed. */
  readonly noticeRation?: ThinkingNoticeRation;
  readonly message: ChatMessage;
  /** The question as policy lets the model see it, with the asker's role and prompt. */
  readonly ask: QuestionToAsk;
  /** Filters the answer (blocked words) and labels it. */
  readonly policy: Pick<QuestionPolicy, 'answerFilter' | 'present'>;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export interface QuestionToAsk {
  readonly text: string;
  readonly role: Role;
  readonly systemPrompt: string;
  /** Shown above the answer (personal data was removed). */
  readonly notice?: string;
}

/** What to send for a question: the answer or one friendly sentence, and where it is being written. */
export interface QuestionReply {
  readonly text: string;
  readonly failed: boolean;
  /** The streamed answer to finish with `text`, when the replier streams. */
  readonly draft?: AnswerDraft;
  /** For the audit trail. */
  readonly outcome: AuditOutcome;
  readonly usage?: TokenUsage;
  /** The model's answer as given (no label), for a review transcript. */
  readonly answer?: string;
}

/**
 * Asks the assistant and returns what to reply: the answer with its AI label, or one friendly
 * sentence when it could not be had (details go to the log). A streaming replier shows the
 * answer as it is written (blocked words never reach it); otherwise a "working on it" notice
 * goes out if the answer is slow, always delivered before the caller sends the answer.
 */
export async function answerQuestion(input: AnswerInput): Promise<QuestionReply> {
  const { turn, message, ask, policy, signal, log } = input;
  const draft = await startDraft(input);
  const notice = new ThinkingNotice({ ...input, ration: input.noticeRation });
  if (!draft) notice.arm();
  const filter = policy.answerFilter();
  try {
    const result = await turn.ask({
      text: ask.text,
      systemPrompt: ask.systemPrompt,
      role: ask.role,
      requestId: message.id,
      signal,
      runClass: 'chat',
      logContext: { msgId: message.id, transport: 'chat' },
      // Without a draft the text only tells the notice that the answer is being written.
      onText: draft ? filter.guard((soFar) => draft.update(soFar)) : (soFar) => notice.textArrived(soFar),
      screenAnswer: filter.check,
    });
    if (result.answer.trim() === '') {
      log.warn('assistant returned an empty answer');
      return { text: CHAT_TEXTS.failed, failed: true, draft, outcome: 'failed', usage: result.usage };
    }
    const text = policy.present(result.answer, ask.notice);
    return { text, failed: false, draft, outcome: 'answered', usage: result.usage, answer: result.answer };
  } catch (err) {
    if (signal.aborted) {
      // Stopping: the message stays pending; the draft is closed with the failure sentence
      // or, after a crash, by the replier's own recovery.
      await draft?.finish(CHAT_TEXTS.failed, { failed: true }).catch(() => undefined);
      throw new HandlingCancelled();
    }
    log.warn('question not answered', { err: String(err), kind: failureKind(err) });
    return { text: failureText(err), failed: true, draft, outcome: failureOutcome(err) };
  } finally {
    await notice.settle();
  }
}

async function startDraft(input: AnswerInput): Promise<AnswerDraft | undefined> {
  try {
    return await input.replier.startAnswer?.(input.message);
  } catch (err) {
    input.log.warn('could not start a streamed answer; answering in one message', { err: String(err) });
    return undefined;
  }
}

function failureText(err: unknown): string {
  if (err instanceof AssistantError) return assistantFailureText(err.kind);
  if (err instanceof BusyError) return CHAT_TEXTS.busy;
  if (err instanceof StorageError) return CHAT_TEXTS.unavailable;
  return CHAT_TEXTS.failed;
}

function failureKind(err: unknown): string {
  if (err instanceof AssistantError) return err.kind;
  return err instanceof Error ? err.name : 'unknown';
}
