import type { Logger } from '../logger.js';
import type { Storage } from '../storage/open-storage.js';
import type { SchoolClock } from './school-clock.js';

const DAY_MS = 24 * 60 * 60_000;
export const PURGE_INTERVAL_MS = 60 * 60_000;

export interface RetentionPurgeOptions {
  readonly storage: Pick<Storage, 'policy' | 'sweep'>;
  /** AUDIT_RETENTION_DAYS, TRANSCRIPT_RETENTION_DAYS. */
  readonly retention: { readonly auditDays: number; readonly transcriptDays: number };
  readonly clock: SchoolClock;
  readonly logger: Logger;
  /**
   * Ends expired conversations before the storage's sweep: removes them and deletes the vendor's
   * copy where the backend can (the engine's `sweepExpired`). Resolves how many it removed.
   */
  readonly expireSessions?: () => Promise<{ readonly removed: number }>;
}

/**
 * Deletes what is kept no longer than its retention: audit records older than
 * AUDIT_RETENTION_DAYS, review transcripts older than TRANSCRIPT_RETENTION_DAYS (all of them at
 * 0), expired sessions (their history holds students' words) and ledger ids, old quota days,
 * ended exams and expired notices. The storage's sweep runs last, so on SQLite the WAL is
 * checkpointed and truncated after the deletes: with secure_delete on every connection, the
 * deleted text is then readable neither in the database's free pages nor in the WAL.
 */
export class RetentionPurge {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: RetentionPurgeOptions) {}

  /** One purge now; concurrent calls share it. Never rejects (failures are logged). */
  run(): Promise<void> {
    this.running ??= this.purge().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Purges now and every hour until `stop`. */
  async start(): Promise<void> {
    await this.run();
    this.timer ??= setInterval(() => void this.run(), PURGE_INTERVAL_MS).unref();
  }

  /** Stops the timer and waits for a purge in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async purge(): Promise<void> {
    const { storage, retention, clock, logger } = this.options;
    const now = clock.now();
    const { policy } = storage;
    try {
      const counts = {
        audit: await policy.audit.deleteBefore(now - retention.auditDays * DAY_MS),
        transcripts: await policy.transcripts.deleteBefore(now - retention.transcriptDays * DAY_MS),
        quotaDays: await policy.quotas.deleteBefore(clock.at(now - 2 * DAY_MS).date),
        exams: await policy.exams.deleteEnded(now),
        notices: await policy.notices.deleteExpired(now),
        sessions: (await this.options.expireSessions?.())?.removed,
      };
      await storage.sweep();
      logger.info('retention purge done', counts);
    } catch (err) {
      logger.error('retention purge failed; it runs again within the hour', { err: String(err) });
    }
  }
}
