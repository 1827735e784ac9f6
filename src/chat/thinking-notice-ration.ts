import type { ChatMessage } from './chat-message.js';

/** How long past the notice's due time a group waits for the answer before the notice goes out. */
export const GROUP_NOTICE_GRACE_MS = 2_000;

/**
 * "Working on it" notices must not double a group's traffic: in a group at most one per window
 * (THINKING_NOTICE_GROUP_SECONDS; 0 = no limit), none once the model is writing the answer, and
 * a group notice waits a short grace past its due time, so an answer that arrives meanwhile goes
 * out alone. Direct chats are not rationed (a notice there bothers nobody else).
 */
export class ThinkingNoticeRation {
  private readonly sentAt = new Map<string, number>();
  private prunedAt = -Infinity;

  constructor(
    private readonly groupWindowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True where notices are rationed (groups): skipped once the answer is being written. */
  rations(message: ChatMessage): boolean {
    return message.conversation.kind === 'group';
  }

  /** Extra wait before the notice, for this message's conversation. */
  graceMs(message: ChatMessage): number {
    return this.rations(message) ? GROUP_NOTICE_GRACE_MS : 0;
  }

  /** True when a notice may go to this conversation now (and counts it). */
  claim(message: ChatMessage): boolean {
    if (!this.rations(message) || this.groupWindowMs <= 0) return true;
    const now = this.now();
    const from = now - this.groupWindowMs;
    this.prune(from);
    const last = this.sentAt.get(message.conversation.id);
    if (last !== undefined && last > from) return false;
    this.sentAt.set(message.conversation.id, now);
    return true;
  }

  private prune(from: number): void {
    if (this.sentAt.size < 1000 || this.prunedAt > from) return;
    this.prunedAt = from + this.groupWindowMs;
    for (const [id, at] of this.sentAt) if (at <= from) this.sentAt.delete(id);
  }
}
