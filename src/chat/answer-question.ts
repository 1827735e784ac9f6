import type { ConversationTurn } from '../engine/types.js';
import { AssistantError, BusyError, StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ChatMessage, ChatReplier } from './chat-message.js';
import { assistantFailureText, CHAT_TEXTS } from './chat-texts.js';

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
  readonly message: ChatMessage;
  readonly text: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/**
 * Asks the assistant and returns what to reply: the answer, or one friendly sentence when it
 * could not be had (details go to the log). Sends the "working on it" notice if the answer is
 * slow; the notice is always delivered before the caller sends the answer.
 */
export async function answerQuestion(input: AnswerInput): Promise<string> {
  const { turn, message, text, signal, log } = input;
  const notice = new ThinkingNotice(input);
  notice.arm();
  try {
    const result = await turn.ask({
      text,
      requestId: message.id,
      signal,
      logContext: { msgId: message.id, transport: 'chat' },
    });
    if (result.answer.trim() === '') {
      log.warn('assistant returned an empty answer');
      return CHAT_TEXTS.failed;
    }
    return result.answer;
  } catch (err) {
    if (signal.aborted) throw new HandlingCancelled();
    log.warn('question not answered', { err: String(err), kind: failureKind(err) });
    return failureText(err);
  } finally {
    await notice.settle();
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

/** One "working on it" message if the answer takes longer than the notice delay. */
class ThinkingNotice {
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private settled = false;

  constructor(private readonly input: AnswerInput) {}

  arm(): void {
    const { thinkingNoticeMs, replier, message, log } = this.input;
    if (thinkingNoticeMs <= 0 || this.settled) return;
    this.timer = setTimeout(() => {
      this.sending = replier
        .reply(message, CHAT_TEXTS.thinking)
        .catch((err: unknown) => {
          log.warn('thinking notice not delivered', { err: String(err) });
        });
    }, thinkingNoticeMs);
  }

  /** Cancels a pending notice, or waits until a notice already on its way is delivered. */
  async settle(): Promise<void> {
    this.settled = true;
    clearTimeout(this.timer);
    await this.sending;
  }
}
