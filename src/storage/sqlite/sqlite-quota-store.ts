import type { QuotaStore, QuotaUsage } from '../quota-store.js';
import { APPEND_DELAY_MS } from './sqlite-append-buffer.js';
import type { SqliteConnection } from './sqlite-connection.js';

export const QUOTA_SCHEMA = `
  CREATE TABLE IF NOT EXISTS policy_quota (
    subject TEXT NOT NULL,
    day TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    granted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, day)
  ) WITHOUT ROWID;`;

interface Usage {
  used: number;
  granted: number;
}

/**
 * Daily counts in one table, mirrored in memory for the current day. One process owns a SQLite
 * file, so the mirror decides a `take` at once (check and count with no await in between, so
 * two questions at once never both take the last one) and counts are written in the
 * background, gathered over APPEND_DELAY_MS into one statement, without holding up the
 * question; a restart reads the table again. Only a crash within that moment can lose counts.
 */
export class SqliteQuotaStore implements QuotaStore {
  private day = '';
  private readonly mirror = new Map<string, Promise<Usage>>();
  /** Counts not written yet: (subject, day) → change of `used`. */
  private unwritten = new Map<string, { subject: string; day: string; delta: number }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: SqliteConnection,
    /** Told when a background write failed (the count stays in memory). */
    private readonly onWriteError: (err: unknown) => void = () => undefined,
  ) {}

  async take(subject: string, day: string, limit: number): Promise<QuotaUsage | undefined> {
    if (limit < 1) return undefined;
    const usage = await this.entry(subject, day);
    if (usage.used >= limit + usage.granted) return undefined;
    usage.used++;
    this.count(subject, day, +1);
    return { ...usage };
  }

  async giveBack(subject: string, day: string): Promise<void> {
    const usage = await this.entry(subject, day);
    if (usage.used === 0) return;
    usage.used--;
    this.count(subject, day, -1);
  }

  async grant(subject: string, day: string, extra: number): Promise<QuotaUsage> {
    const usage = await this.entry(subject, day);
    await this.db.run(
      'granting extra questions failed',
      `INSERT INTO policy_quota (subject, day, used, granted) VALUES (?, ?, 0, ?)
       ON CONFLICT (subject, day) DO UPDATE SET granted = granted + excluded.granted`,
      [subject, day, extra],
    );
    usage.granted += extra;
    return { ...usage };
  }

  async usage(subject: string, day: string): Promise<QuotaUsage> {
    return { ...(await this.entry(subject, day)) };
  }

  /** Writes the counts not written yet; resolves once they are stored (close, purge). */
  flush(): Promise<unknown> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const changes = [...this.unwritten.values()].filter((c) => c.delta !== 0);
    this.unwritten = new Map();
    if (changes.length === 0) return this.writing;
    const values = changes.map(() => '(?, ?, ?, 0)').join(', ');
    const sql = `INSERT INTO policy_quota (subject, day, used, granted) VALUES ${values}
       ON CONFLICT (subject, day) DO UPDATE SET used = max(0, used + excluded.used)`;
    const params = changes.flatMap((c) => [c.subject, c.day, c.delta]);
    this.writing = this.writing.then(() => this.db.run('writing the daily quota failed', sql, params)).catch(this.onWriteError);
    return this.writing;
  }

  async deleteBefore(day: string): Promise<number> {
    await this.flush();
    return this.db.run('purging old quota days failed', 'DELETE FROM policy_quota WHERE day < ?', [day]);
  }

  /** The mirrored usage of (subject, day), read from the table the first time; one read per key. */
  private entry(subject: string, day: string): Promise<Usage> {
    if (day > this.day) {
      this.mirror.clear(); // a new day: earlier days are never counted again
      this.day = day;
    }
    const key = `${subject}\n${day}`;
    let entry = this.mirror.get(key);
    if (!entry) {
      entry = this.read(subject, day);
      // Only the current day is mirrored; a read of another day (a teacher's look back) is not kept.
      if (day === this.day) this.mirror.set(key, entry);
      entry.catch(() => this.mirror.delete(key));
    }
    return entry;
  }

  private async read(subject: string, day: string): Promise<Usage> {
    await this.flush(); // counts taken before are part of what is read
    const row = await this.db.get<Usage>('reading the daily quota failed', 'SELECT used, granted FROM policy_quota WHERE subject = ? AND day = ?', [
      subject,
      day,
    ]);
    return { used: row?.used ?? 0, granted: row?.granted ?? 0 };
  }

  private count(subject: string, day: string, delta: number): void {
    const key = `${subject}\n${day}`;
    const change = this.unwritten.get(key) ?? { subject, day, delta: 0 };
    change.delta += delta;
    this.unwritten.set(key, change);
    this.timer ??= setTimeout(() => void this.flush(), APPEND_DELAY_MS).unref();
  }
}
