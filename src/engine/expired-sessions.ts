import type { AssistantBackend } from '../backends/assistant-backend.js';
import type { Logger } from '../logger.js';
import type { ExpiredSession, SessionStore } from '../storage/session-store.js';
import { pseudonymOf } from './pseudonym.js';

export interface ExpiredSessionsOptions {
  readonly sessions: SessionStore;
  readonly backend: AssistantBackend;
  /** The storage's secret for pseudonyms: `forget` gets the user the conversation was asked as. */
  readonly pseudonymKey: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly limits?: Partial<ExpiryLimits>;
}

/** How much upstream work one sweep may cause (a school's quota of vendor calls is finite). */
export interface ExpiryLimits {
  /** Sessions removed per store call. */
  readonly batch: number;
  /** Upstream deletes per sweep at most; the rest are removed here only (and logged). */
  readonly maxForgets: number;
  /** Time the upstream deletes of one sweep may take in all. */
  readonly budgetMs: number;
  /** Upstream deletes at once. */
  readonly concurrency: number;
  /** Time one upstream delete may take. */
  readonly callTimeoutMs: number;
}

export const DEFAULT_EXPIRY_LIMITS: ExpiryLimits = { batch: 200, maxForgets: 500, budgetMs: 120_000, concurrency: 4, callTimeoutMs: 10_000 };

/** What one sweep did here; the upstream deletes go on in the background. */
export interface ExpirySweep {
  readonly removed: number;
  /** Conversations whose upstream copy is being deleted. */
  readonly forgetting: number;
  /** Expired conversations left at the vendor because the sweep's bound was reached. */
  readonly overBound: number;
}

/**
 * Ends expired conversations: every expired session is removed from the store in one pass, and
 * the vendor's copy of each (a DingTalk thread, a Dify conversation) is deleted where the backend
 * can (`forget`), bounded in count and time per sweep so a backlog after downtime cannot eat the
 * school's API quota or delay anything else. The deletes run in the background.
 */
export class ExpiredSessions {
  private readonly limits: ExpiryLimits;
  private readonly now: () => number;
  private readonly stopping = new AbortController();
  private forgetting: Promise<void> = Promise.resolve();

  constructor(private readonly options: ExpiredSessionsOptions) {
    this.limits = { ...DEFAULT_EXPIRY_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
  }

  /** Removes every session expired by now; starts deleting their upstream copies (bounded). */
  async sweep(): Promise<ExpirySweep> {
    const { sessions, backend } = this.options;
    const before = this.now();
    const upstream: ExpiredSession[] = [];
    let removed = 0;
    let overBound = 0;
    // Bounded: each round removes `batch` rows, and rows expiring meanwhile are not "before".
    for (let round = 0; round < 10_000; round++) {
      const taken = await sessions.takeExpired(before, this.limits.batch);
      removed += taken.length;
      for (const s of taken) {
        if (!backend.forget || s.record.backend !== backend.name) continue;
        if (upstream.length < this.limits.maxForgets) upstream.push(s);
        else overBound++;
      }
      if (taken.length < this.limits.batch) break;
    }
    if (overBound > 0) {
      this.options.logger.warn('more expired conversations than one sweep deletes upstream; the rest stay at the vendor', {
        deleting: upstream.length,
        overBound,
      });
    }
    if (upstream.length > 0 && !this.stopping.signal.aborted) {
      const run = this.forgetting.then(() => this.forgetAll(upstream));
      this.forgetting = run.catch(() => undefined);
    }
    return { removed, forgetting: upstream.length, overBound };
  }

  /** Resolves once the upstream deletes started so far are done (or given up). */
  settled(): Promise<void> {
    return this.forgetting;
  }

  /** Cancels upstream deletes still running; waits at most `ms` for them to settle. */
  async stop(ms = 1_000): Promise<void> {
    this.stopping.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.forgetting, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  private async forgetAll(expired: readonly ExpiredSession[]): Promise<void> {
    const deadline = this.now() + this.limits.budgetMs;
    const queue = [...expired];
    let deleted = 0;
    let failed = 0;
    const worker = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        if (this.stopping.signal.aborted || this.now() >= deadline) return;
        if (await this.forgetOne(s, Math.min(deadline, this.now() + this.limits.callTimeoutMs))) deleted++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: this.limits.concurrency }, worker));
    const skipped = expired.length - deleted - failed;
    const log = this.options.logger;
    if (failed > 0 || skipped > 0) log.warn('some expired conversations could not be deleted upstream', { deleted, failed, skipped });
    else log.info('expired conversations deleted upstream', { deleted });
  }

  private async forgetOne(s: ExpiredSession, deadline: number): Promise<boolean> {
    const { backend, pseudonymKey, logger } = this.options;
    try {
      await backend.forget!(s.record.state, {
        user: pseudonymOf(s.key, pseudonymKey),
        deadline,
        signal: this.stopping.signal,
        logContext: { conversationKey: s.key },
      });
      return true;
    } catch (err) {
      logger.debug('could not delete an expired conversation upstream', { conversationKey: s.key, err: String(err) });
      return false;
    }
  }
}
