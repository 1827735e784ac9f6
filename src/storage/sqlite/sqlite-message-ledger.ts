import { StorageError } from '../../errors.js';
import type { LedgerEntry, MessageLedger } from '../message-ledger.js';
import { SqliteConnection } from './sqlite-connection.js';

export interface SqliteLedgerOptions {
  /** The SQLite file (shared with the session store, on its own connection), or `:memory:`. */
  readonly file: string;
  /** How long an id is remembered; longer than DingTalk's redelivery window. */
  readonly ttlMs: number;
  readonly busyTimeoutMs?: number;
  readonly now?: () => number;
  /** Sees every SQL statement run (tests prove a batch of admits is one statement). */
  readonly onStatement?: (sql: string) => void;
}

/**
 * Rows per admit statement: 4 parameters a row, 4,001 in all, below SQLITE_MAX_VARIABLE_NUMBER
 * (32,766 since SQLite 3.32). Large on purpose: each extra statement's result waits its turn on
 * the event loop behind the answers the earlier frames started (measured: with 200, a burst of
 * 500 frames had its last batch acked ~140 ms late).
 */
export const MAX_ADMIT_BATCH = 1_000;

// `rowid` is the insertion order, the tie-breaker of `pending()` for same-millisecond admits.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS chat_ledger (
    id TEXT PRIMARY KEY,
    admitted_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    payload TEXT,
    progress TEXT
  );
  CREATE INDEX IF NOT EXISTS chat_ledger_expires_at ON chat_ledger (expires_at);`;

interface WaitingAdmit {
  readonly entry: LedgerEntry;
  readonly payload: string | null;
  resolve(inserted: boolean): void;
  reject(err: unknown): void;
}

/**
 * The message ledger in its own SQLite table. The ack of a chat frame waits for `admit`, so
 * admits are group-committed: those arriving while a write is in flight go out together as
 * one multi-row INSERT (one statement, one commit), and a burst of frames costs a handful of
 * trips through node-sqlite3's queue instead of one or two per frame.
 */
export class SqliteMessageLedger implements MessageLedger {
  private queue: WaitingAdmit[] = [];
  private writer: Promise<void> | undefined;
  /** Updates are read-merge-write; one at a time so two updates cannot lose each other's keys. */
  private updates: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lastAdmit: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: SqliteConnection,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * The ledger's connection, for tables written on the same path as a chat answer (policy):
   * statements of one connection queue behind each other instead of colliding on the file's
   * write lock, where SQLite's busy handler would sleep a millisecond or more. Closed with the ledger.
   */
  get connection(): SqliteConnection {
    return this.db;
  }

  static async open(options: SqliteLedgerOptions): Promise<SqliteMessageLedger> {
    const db = await SqliteConnection.open({
      file: options.file,
      busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      onStatement: options.onStatement,
    });
    try {
      // WAL: a commit is one sequential append and readers never block it; with
      // synchronous=NORMAL a commit survives a process crash (kill -9), only a power cut may
      // lose the last ones. An in-memory database just answers "memory".
      await db.all('cannot switch the ledger to WAL', 'PRAGMA journal_mode=WAL');
      await db.run('cannot set synchronous=NORMAL', 'PRAGMA synchronous=NORMAL');
      await db.exec('cannot create the chat_ledger table', SCHEMA);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
    return new SqliteMessageLedger(db, options.ttlMs, options.now ?? Date.now);
  }

  admit(entry: LedgerEntry): Promise<boolean> {
    if (this.closed) return Promise.reject(new StorageError('the message ledger is closed'));
    let payload: string | null;
    try {
      payload = JSON.stringify(entry.payload) ?? null;
    } catch (err) {
      return Promise.reject(new StorageError(`ledger payload of ${entry.id} is not serialisable: ${String(err)}`, { cause: err }));
    }
    const admitted = new Promise<boolean>((resolve, reject) => {
      this.queue.push({ entry, payload, resolve, reject });
      // The first write waits one turn of the event loop, so frames that arrived in the same
      // socket read share its commit; later ones gather while it is in flight.
      this.writer ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
    // Batches commit in order, so the newest admit settling means every earlier one has.
    this.lastAdmit = admitted.then(
      () => undefined,
      () => undefined,
    );
    return admitted;
  }

  /** Resolves once every admit asked for before this call is written (later ones don't delay it). */
  async idle(): Promise<void> {
    await this.lastAdmit;
  }

  async update(id: string, progress: Readonly<Record<string, unknown>>): Promise<void> {
    const next = this.updates.then(() => this.mergeProgress(id, progress));
    this.updates = next.catch(() => undefined);
    return next;
  }

  async complete(id: string): Promise<void> {
    // Keep only the id and times as the redelivery guard: the payload (a student's question)
    // is not needed any more. An id never admitted (storage was down) gets a guard too.
    const now = this.now();
    await this.db.run(
      `completing ledger entry ${id} failed`,
      `INSERT INTO chat_ledger (id, admitted_at, expires_at, done) VALUES (?, ?, ?, 1)
       ON CONFLICT (id) DO UPDATE SET done = 1, payload = NULL, progress = NULL, expires_at = excluded.expires_at`,
      [id, now, now + this.ttlMs],
    );
  }

  async pending(): Promise<LedgerEntry[]> {
    const rows = await this.db.all<{ id: string; admitted_at: number; payload: string | null; progress: string | null }>(
      'listing pending ledger entries failed',
      `SELECT id, admitted_at, payload, progress FROM chat_ledger
       WHERE done = 0 AND expires_at >= ? ORDER BY admitted_at, rowid`,
      [this.now()],
    );
    return rows.map((row) => {
      const progress = parseObject(row.progress);
      // A corrupt payload comes back as null: recovery then completes the entry instead of answering.
      return { id: row.id, admittedAt: row.admitted_at, payload: parseJson(row.payload) ?? null, ...(progress && { progress }) };
    });
  }

  /** Deletes expired ids so the file does not grow for months; resolves how many went. */
  sweep(): Promise<number> {
    return this.db.run('sweeping the ledger failed', 'DELETE FROM chat_ledger WHERE expires_at < ?', [this.now()]);
  }

  /** Finishes admits and updates already asked for, then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer;
    await this.updates;
    await this.db.close();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_ADMIT_BATCH));
    } finally {
      this.writer = undefined;
    }
  }

  /** Writes one batch and settles every caller in it; never throws. */
  private async commit(batch: readonly WaitingAdmit[]): Promise<void> {
    // Duplicates inside the batch: the first is written, the others are redeliveries.
    const first = new Map<string, WaitingAdmit>();
    for (const waiting of batch) if (!first.has(waiting.entry.id)) first.set(waiting.entry.id, waiting);
    let inserted: Set<string>;
    try {
      inserted = await this.insert([...first.values()]);
    } catch (err) {
      for (const waiting of batch) {
        if (first.get(waiting.entry.id) === waiting) waiting.reject(err);
        else waiting.resolve(false);
      }
      return;
    }
    for (const waiting of batch) waiting.resolve(first.get(waiting.entry.id) === waiting && inserted.has(waiting.entry.id));
  }

  /**
   * One statement for the whole batch; RETURNING names the ids it wrote. An existing row counts
   * only while it has not expired: an expired one is taken over in place (the WHERE of the
   * upsert) and moved to the end of the rowid order, so it sorts as the arrival it now is.
   */
  private async insert(batch: readonly WaitingAdmit[]): Promise<Set<string>> {
    const now = this.now();
    const expiresAt = now + this.ttlMs;
    const values = batch.map(() => '(?, ?, ?, ?)').join(', ');
    const params = batch.flatMap((w) => [w.entry.id, w.entry.admittedAt, expiresAt, w.payload]);
    const rows = await this.db.all<{ id: string }>(
      `ledger admit failed (${batch.length} messages)`,
      `INSERT INTO chat_ledger (id, admitted_at, expires_at, payload) VALUES ${values}
       ON CONFLICT (id) DO UPDATE SET rowid = (SELECT max(rowid) + 1 FROM chat_ledger),
         admitted_at = excluded.admitted_at, expires_at = excluded.expires_at,
         done = 0, payload = excluded.payload, progress = NULL
       WHERE chat_ledger.expires_at < ?
       RETURNING id`,
      [...params, now],
    );
    return new Set(rows.map((row) => row.id));
  }

  private async mergeProgress(id: string, progress: Readonly<Record<string, unknown>>): Promise<void> {
    const what = `updating ledger entry ${id} failed`;
    const now = this.now();
    const row = await this.db.get<{ progress: string | null }>(
      what,
      'SELECT progress FROM chat_ledger WHERE id = ? AND done = 0 AND expires_at >= ?',
      [id, now],
    );
    if (!row) return; // unknown, expired or completed: nothing to resume any more
    const merged = JSON.stringify({ ...parseObject(row.progress), ...progress });
    // `done = 0` again: a completion that slipped in between the two statements wins.
    await this.db.run(what, 'UPDATE chat_ledger SET progress = ?, expires_at = ? WHERE id = ? AND done = 0', [
      merged,
      now + this.ttlMs,
      id,
    ]);
  }
}

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseObject(text: string | null): Record<string, unknown> | undefined {
  const value = parseJson(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
