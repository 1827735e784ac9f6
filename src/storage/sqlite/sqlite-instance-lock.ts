import { hostname } from 'node:os';
import { StorageError } from '../../errors.js';
import { SqliteConnection } from './sqlite-connection.js';

const HOLDER_TABLE = `CREATE TABLE IF NOT EXISTS instance_holder (
  id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL)`;

/**
 * One process at a time on an SQLite session file: two processes would each hold a Stream
 * connection and get half of the messages, with no shared order or sessions. The lock is an
 * exclusive SQLite lock on `<file>.lock`, held as long as the process runs; the operating system
 * drops it when the process ends, even by kill -9, so a stale lock never blocks a restart. The
 * holder's pid and host are written into the session file, for the refusal message.
 */
export class SqliteInstanceLock {
  private released = false;

  private constructor(private readonly db: SqliteConnection) {}

  /** Takes the lock or throws a StorageError saying who holds it and what to do. */
  static async acquire(file: string): Promise<SqliteInstanceLock> {
    const db = await SqliteConnection.open({ file: `${file}.lock`, busyTimeoutMs: 0 });
    try {
      await db.run('locking the session file', 'BEGIN EXCLUSIVE');
    } catch (err) {
      await db.close().catch(() => undefined);
      if (!isBusy(err)) throw err;
      throw new StorageError(
        `another instance of the service is using ${file}${await holderText(file)}; with SQLite only one instance may run: ` +
          'stop the other one, or use SESSION_STORAGE=redis://… to run several instances',
        { cause: err },
      );
    }
    await recordHolder(file).catch(() => undefined); // only for the message above: never fatal
    return new SqliteInstanceLock(db);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.db.run('unlocking the session file', 'ROLLBACK').catch(() => undefined);
    await this.db.close();
  }
}

function isBusy(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'SQLITE_BUSY' || cause?.code === 'SQLITE_LOCKED';
}

async function recordHolder(file: string): Promise<void> {
  const db = await SqliteConnection.open({ file, busyTimeoutMs: 2_000 });
  try {
    await db.run('creating instance_holder', HOLDER_TABLE);
    await db.run('recording the instance holder', 'INSERT OR REPLACE INTO instance_holder (id, pid, host, since) VALUES (1, ?, ?, ?)', [
      process.pid,
      hostname(),
      new Date().toISOString(),
    ]);
  } finally {
    await db.close();
  }
}

async function holderText(file: string): Promise<string> {
  try {
    const db = await SqliteConnection.open({ file, busyTimeoutMs: 500 });
    try {
      const row = await db.get<{ pid: number; host: string; since: string }>('reading instance_holder', 'SELECT pid, host, since FROM instance_holder');
      return row ? ` (pid ${row.pid} on ${row.host}, since ${row.since})` : '';
    } finally {
      await db.close();
    }
  } catch {
    return '';
  }
}
