import type { QuotaStore, QuotaUsage } from '../quota-store.js';
import type { SqliteConnection } from './sqlite-connection.js';

export const QUOTA_SCHEMA = `
  CREATE TABLE IF NOT EXISTS policy_quota (
    subject TEXT NOT NULL,
    day TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    granted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, day)
  ) WITHOUT ROWID;`;

/** Daily counts in one table; each method is one statement, so concurrent takes cannot overshoot. */
export class SqliteQuotaStore implements QuotaStore {
  constructor(private readonly db: SqliteConnection) {}

  async take(subject: string, day: string, limit: number): Promise<QuotaUsage | undefined> {
    if (limit < 1) return undefined;
    return this.db.get<QuotaUsage>(
      'counting a question against the daily quota failed',
      `INSERT INTO policy_quota (subject, day, used, granted) VALUES (?, ?, 1, 0)
       ON CONFLICT (subject, day) DO UPDATE SET used = used + 1 WHERE policy_quota.used < ? + policy_quota.granted
       RETURNING used, granted`,
      [subject, day, limit],
    );
  }

  async giveBack(subject: string, day: string): Promise<void> {
    await this.db.run(
      'giving back a quota question failed',
      'UPDATE policy_quota SET used = used - 1 WHERE subject = ? AND day = ? AND used > 0',
      [subject, day],
    );
  }

  async grant(subject: string, day: string, extra: number): Promise<QuotaUsage> {
    const row = await this.db.get<QuotaUsage>(
      'granting extra questions failed',
      `INSERT INTO policy_quota (subject, day, used, granted) VALUES (?, ?, 0, ?)
       ON CONFLICT (subject, day) DO UPDATE SET granted = granted + excluded.granted
       RETURNING used, granted`,
      [subject, day, extra],
    );
    return row ?? { used: 0, granted: extra };
  }

  async usage(subject: string, day: string): Promise<QuotaUsage> {
    const row = await this.db.get<QuotaUsage>(
      'reading the daily quota failed',
      'SELECT used, granted FROM policy_quota WHERE subject = ? AND day = ?',
      [subject, day],
    );
    return row ?? { used: 0, granted: 0 };
  }

  deleteBefore(day: string): Promise<number> {
    return this.db.run('purging old quota days failed', 'DELETE FROM policy_quota WHERE day < ?', [day]);
  }
}
