import type { RateLimit } from '../config/config.js';

export type RateVerdict = 'allowed' | 'limited' | 'limited-quietly';

/**
 * A sliding-window limit per sender (USER_RATE_LIMIT). The first refused message of a burst
 * gets a "slow down" reply; later ones in the same window are dropped quietly so the bot
 * does not flood a group with its own notices.
 */
export class SenderRateLimit {
  private readonly hits = new Map<string, { times: number[]; warnedAt?: number }>();
  private prunedAt = -Infinity;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Senders currently remembered (memory bound). */
  get trackedSenders(): number {
    return this.hits.size;
  }

  check(senderId: string): RateVerdict {
    const now = this.now();
    const from = now - this.limit.windowMs;
    const entry = this.hits.get(senderId) ?? { times: [] };
    entry.times = entry.times.filter((t) => t > from);
    this.hits.set(senderId, entry);
    this.prune(from);
    if (entry.times.length < this.limit.max) {
      entry.times.push(now);
      return 'allowed';
    }
    if (entry.warnedAt !== undefined && entry.warnedAt > from) return 'limited-quietly';
    entry.warnedAt = now;
    return 'limited';
  }

  /**
   * Keeps memory bounded over months: forget senders idle for a whole window. A full scan at
   * most once per window, so a school of thousands of active senders costs no scan per message.
   */
  private prune(from: number): void {
    if (this.hits.size < 1000 || this.prunedAt > from) return;
    this.prunedAt = from + this.limit.windowMs;
    for (const [id, e] of this.hits) {
      if ((e.times.at(-1) ?? 0) <= from && (e.warnedAt ?? 0) <= from) this.hits.delete(id);
    }
  }
}
