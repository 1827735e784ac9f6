import type { NoticeMemory } from '../notice-memory.js';
import type { SqliteConnection } from './sqlite-connection.js';

export const NOTICE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS policy_notices (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;`;

/** One-time notices: a claim is a row; an expired row is taken over by the next claim. */
export class SqliteNoticeMemory implements NoticeMemory {
  constructor(private readonly db: SqliteConnection) {}

  async claim(key: string, expiresAt: number, now: number): Promise<boolean> {
    const row = await this.db.get<{ key: string }>(
      'recording a notice failed',
      `INSERT INTO policy_notices (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE policy_notices.expires_at <= ?
       RETURNING key`,
      [key, expiresAt, now],
    );
    return row !== undefined;
  }

  deleteExpired(now: number): Promise<number> {
    return this.db.run('purging expired notices failed', 'DELETE FROM policy_notices WHERE expires_at <= ?', [now]);
  }
}
