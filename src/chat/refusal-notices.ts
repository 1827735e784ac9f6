import type { ChatMessage } from './chat-message.js';

/**
 * Rations the bot's refusals (busy, too fast, not allowed, a blocked question): at most one
 * per sender and conversation per window (CHAT_REFUSAL_NOTICE_SECONDS); later ones in the window
 * are recorded and completed without a word, so a student flooding a group cannot make the bot
 * flood it too. Memory stays bounded: pairs silent for a whole window are forgotten.
 */
export class RefusalNotices {
  private readonly saidAt = new Map<string, number>();
  private prunedAt = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Pairs remembered now (memory bound). */
  get tracked(): number {
    return this.saidAt.size;
  }

  /** True when the refusal may be said now (and counts it); false: stay silent. */
  claim(message: ChatMessage): boolean {
    const now = this.now();
    const from = now - this.windowMs;
    this.prune(from);
    const key = `${message.conversation.id}\u0000${message.sender.id}`;
    const last = this.saidAt.get(key);
    if (last !== undefined && last > from) return false;
    this.saidAt.set(key, now);
    return true;
  }

  /** A full scan at most once per window, and only once there are many pairs. */
  private prune(from: number): void {
    if (this.saidAt.size < 1000 || this.prunedAt > from) return;
    this.prunedAt = from + this.windowMs;
    for (const [key, at] of this.saidAt) if (at <= from) this.saidAt.delete(key);
  }
}
