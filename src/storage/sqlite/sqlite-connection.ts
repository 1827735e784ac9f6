import sqlite3 from 'sqlite3';
import { StorageError } from '../../errors.js';

export interface SqliteConnectionOptions {
  /** A file path, or `:memory:` for a private in-memory database. */
  readonly file: string;
  /** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs: number;
  /** Called with the text of every statement the connection runs (tests count write trips). */
  readonly onStatement?: (sql: string) => void;
  /** Open an existing file for reading only (reports); never creates it. */
  readonly readOnly?: boolean;
}

type Params = readonly unknown[];

/**
 * One node-sqlite3 connection with promise methods. Every call passes a callback, so a failed
 * statement rejects its own promise (never an unhandled 'error' event that would end the
 * process), and every failure becomes a StorageError naming what was being done.
 */
export class SqliteConnection {
  private constructor(
    private readonly db: sqlite3.Database,
    private readonly busyTimeoutMs: number,
  ) {}

  static async open(options: SqliteConnectionOptions): Promise<SqliteConnection> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const mode = options.readOnly ? sqlite3.OPEN_READONLY : sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE;
      const opened = new sqlite3.Database(options.file, mode, (err) => (err ? reject(err) : resolve(opened)));
    }).catch((err: unknown) => {
      throw new StorageError(`cannot open SQLite file ${options.file}: ${describe(err, options.busyTimeoutMs)}`, { cause: err });
    });
    db.configure('busyTimeout', options.busyTimeoutMs);
    if (options.onStatement) db.on('trace', options.onStatement);
    const connection = new SqliteConnection(db, options.busyTimeoutMs);
    // Students' words are deleted through every connection (completed ledger entries, expired
    // sessions, purged transcripts): overwrite freed content with zeros so it is not left
    // readable in the file's free pages. A per-connection setting.
    await connection.run('cannot enable secure_delete', 'PRAGMA secure_delete=ON').catch(async (err: unknown) => {
      await connection.close().catch(() => undefined);
      throw err;
    });
    return connection;
  }

  all<Row>(what: string, sql: string, params: Params = []): Promise<Row[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err: Error | null, rows: Row[]) => (err ? reject(this.fail(what, err)) : resolve(rows)));
    });
  }

  async get<Row>(what: string, sql: string, params: Params = []): Promise<Row | undefined> {
    return (await this.all<Row>(what, sql, params))[0];
  }

  /** Resolves the number of rows the statement changed. */
  run(what: string, sql: string, params: Params = []): Promise<number> {
    const fail = (err: Error) => this.fail(what, err);
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(fail(err));
        else resolve(this.changes);
      });
    });
  }

  /** Runs several statements separated by semicolons (schema set-up). */
  exec(what: string, sql: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.exec(sql, (err) => (err ? reject(this.fail(what, err)) : resolve()));
    });
  }

  /** Waits for statements already queued, then closes. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.close((err) => (err ? reject(this.fail('closing the SQLite connection', err)) : resolve()));
    });
  }

  private fail(what: string, err: Error): StorageError {
    return new StorageError(`${what}: ${describe(err, this.busyTimeoutMs)}`, { cause: err });
  }
}

/** A locked file is the failure an operator meets most (a backup tool, a second process): say so. */
function describe(err: unknown, busyTimeoutMs: number): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return `the database is locked by another connection (waited ${busyTimeoutMs} ms): ${String(err)}`;
  }
  return String(err);
}
