import type { Logger } from '../logger.js';
import type { ChatMessage, ChatReplier } from './chat-message.js';
import { CHAT_TEXTS } from './chat-texts.js';
import type { ThinkingNoticeRation } from './thinking-notice-ration.js';

export interface ThinkingNoticeInput {
  readonly replier: ChatReplier;
  /** THINKING_NOTICE_SECONDS in ms; 0 = never. */
  readonly thinkingNoticeMs: number;
  readonly message: ChatMessage;
  /** Group rationing and grace; absent: every slow answer gets its notice. */
  readonly ration?: ThinkingNoticeRation;
  readonly log: Logger;
}

/**
 * One "working on it" message if the answer takes longer than the notice delay. In a group
 * (rationed) not when the answer is close: the model is already writing it (text is streaming
 * in), or it arrives within a short grace after the notice was due; and only if no other notice
 * went to the group within THINKING_NOTICE_GROUP_SECONDS.
 */
export class ThinkingNotice {
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private settled = false;
  private writing = false;

  constructor(private readonly input: ThinkingNoticeInput) {}

  arm(): void {
    const { thinkingNoticeMs, message, ration } = this.input;
    if (thinkingNoticeMs <= 0 || this.settled) return;
    this.timer = setTimeout(() => this.due(), thinkingNoticeMs + (ration?.graceMs(message) ?? 0));
  }

  /** The model is writing the answer (its text so far): a notice now would arrive with the answer. */
  textArrived(textSoFar: string): void {
    if (!this.writing && textSoFar.trim() !== '') this.writing = true;
  }

  /** Cancels a pending notice, or waits until a notice already on its way is delivered. */
  async settle(): Promise<void> {
    this.settled = true;
    clearTimeout(this.timer);
    await this.sending;
  }

  private due(): void {
    const { replier, message, ration, log } = this.input;
    if (this.settled) return;
    if (this.writing && ration?.rations(message)) {
      log.debug('thinking notice skipped: the answer is being written');
      return;
    }
    if (ration && !ration.claim(message)) {
      log.debug('thinking notice skipped: the group had one recently');
      return;
    }
    this.sending = replier.reply(message, CHAT_TEXTS.thinking).catch((err: unknown) => {
      log.warn('thinking notice not delivered', { err: String(err) });
    });
  }
}
