import type { SqliteConnection } from './sqlite-connection.js';

/** How long appended rows wait to be written together (a chat answer does not wait for them). */
export const APPEND_DELAY_MS = 200;
/** Rows per INSERT statement at most (SQLite's parameter limit is 32,766). */
const MAX_ROWS = 500;

/**
 * Append-only rows (audit records, transcripts) written in batches: rows appended within
 * APPEND_DELAY_MS go out as one multi-row INSERT, so records written after each answer do not
 * queue one statement each in front of the next question's work on the shared connection.
 * `flush` writes what is pending now (reads, purges and close call it first).
 */
export class SqliteAppendBuffer {
  private pending: unknown[][] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: SqliteConnection,
    /** `INSERT INTO t (a, b) VALUES` … the row placeholders are added … `ON CONFLICT …`. */
    private readonly insert: { readonly into: string; readonly columns: number; readonly onConflict: string },
    private readonly onWriteError: (err: unknown) => void,
  ) {}

  append(row: unknown[]): void {
    this.pending.push(row);
    this.timer ??= setTimeout(() => void this.flush(), APPEND_DELAY_MS).unref();
  }

  /** Resolves once every row appended so far is written (or its failure reported). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.pending;
    this.pending = [];
    if (rows.length > 0) this.writing = this.writing.then(() => this.write(rows));
    return this.writing;
  }

  private async write(rows: unknown[][]): Promise<void> {
    const placeholders = `(${Array.from({ length: this.insert.columns }, () => '?').join(', ')})`;
    for (let i = 0; i < rows.length; i += MAX_ROWS) {
      const batch = rows.slice(i, i + MAX_ROWS);
      const sql = `${this.insert.into} ${batch.map(() => placeholders).join(', ')} ${this.insert.onConflict}`;
      await this.db.run(`writing ${batch.length} rows failed`, sql, batch.flat()).catch(this.onWriteError);
    }
  }
}
