export type UpdatePriority = 'final' | 'update';

export interface UpdateLimiterOptions {
  /** Updates allowed per window, across all cards (the 10 per second). */
  readonly max?: number;
  /**
   * The window: a quarter second over one second, because DingTalk counts calls when they
   * arrive, and calls sent a second apart can arrive closer together (a slow first request, a
   * busy event loop). Stricter than 10 per second, never looser.
   */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/**
 * The process-wide limit on card updates: at most `max` grants in any `windowMs` (a sliding log
 * of grant times). Waiting finals go before waiting intermediate updates, so a card never waits
 * behind other cards' typing to close.
 */
export class UpdateLimiter {
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Grant times within the last window, oldest first. */
  private readonly grants: number[] = [];
  private readonly waiting: Record<UpdatePriority, Array<() => void>> = { final: [], update: [] };
  private timer: NodeJS.Timeout | undefined;

  constructor(options: UpdateLimiterOptions = {}) {
    this.max = options.max ?? 10;
    this.windowMs = options.windowMs ?? 1_250;
    this.now = options.now ?? Date.now;
  }

  /** Resolves when the caller may send one update. */
  take(priority: UpdatePriority): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting[priority].push(resolve);
      this.serve();
    });
  }

  /** Lets every waiter go at once (shutdown: closing cards matters more than the limit). */
  releaseAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const q of [this.waiting.final, this.waiting.update]) for (const resolve of q.splice(0)) resolve();
  }

  private serve(): void {
    const now = this.now();
    while (this.grants.length > 0 && this.grants[0]! <= now - this.windowMs) this.grants.shift();
    while (this.grants.length < this.max) {
      const next = this.waiting.final.shift() ?? this.waiting.update.shift();
      if (!next) return;
      this.grants.push(now);
      next();
    }
    if (this.timer || (this.waiting.final.length === 0 && this.waiting.update.length === 0)) return;
    const wait = Math.max(1, this.grants[0]! + this.windowMs - now + 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.serve();
    }, wait);
    this.timer.unref();
  }
}
