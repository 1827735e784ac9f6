import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { KeyvSessionStore } from './sqlite/keyv-session-store.js';
import type { SharedCoordination } from './leader-lease.js';
import type { MessageLedger } from './message-ledger.js';
import type { OpenCardStore } from './open-card-store.js';
import type { PolicyStores } from './policy-stores.js';
import type { SessionStore } from './session-store.js';
import { SqliteConnection } from './sqlite/sqlite-connection.js';
import { SqliteInstanceLock } from './sqlite/sqlite-instance-lock.js';
import { SqliteMessageLedger } from './sqlite/sqlite-message-ledger.js';
import { SqliteOpenCardStore } from './sqlite/sqlite-open-card-store.js';
import { openSqlitePolicyStores } from './sqlite/sqlite-policy-stores.js';

export interface Storage {
  readonly sessions: SessionStore;
  readonly ledger: MessageLedger;
  /** AI cards not yet finalized (card reply mode). */
  readonly cards: OpenCardStore;
  /** Quotas, exams, one-time notices, the audit trail and review transcripts (school policy). */
  readonly policy: PolicyStores;
  /**
   * A random secret made once per store and kept in it: the key of the pseudonyms that stand
   * for conversations towards model services (stable across restarts, useless elsewhere).
   */
  readonly pseudonymKey: string;
  /**
   * Present when several instances may share the store (Redis): conversation locks across
   * processes and the lease of the one Stream connection. SQLite and memory: one instance.
   */
  readonly coordination?: SharedCoordination;
  /** True when the store answers a read (for /healthz). */
  ping(): Promise<boolean>;
  /**
   * Resolves when the store takes a write and its file is still the one it opened; throws
   * StorageError otherwise (doctor, health checks): a full disk, a read-only file, or a database
   * file deleted or replaced under the running service (whose writes would be lost at restart).
   */
  checkWritable(): Promise<void>;
  /**
   * Deletes expired sessions and ledger ids so the file does not grow for months, then makes
   * everything deleted so far unreadable on disk (SQLite: the WAL is checkpointed and truncated,
   * so old page images of deleted text do not linger there).
   */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** SESSION_STORAGE: `sqlite://<file>` (folder created), `memory://` or `redis://…`/`rediss://…`. */
  readonly url: string;
  readonly ledgerTtlMs: number;
  readonly logger: Logger;
  /** Redis: REDIS_KEY_PREFIX (default `bridge:`). */
  readonly keyPrefix?: string;
  /** Redis: REDIS_LEASE_SECONDS in ms (default 10 s). */
  readonly leaseMs?: number;
  /**
   * SQLite: take the one-process lock (default). False only for a short look beside a running
   * service (`npm run doctor`), which must not be refused for the service it checks.
   */
  readonly instanceLock?: boolean;
}

/**
 * Opens the store named by SESSION_STORAGE: Redis (`src/storage/redis/`, shared by any number
 * of instances) or SQLite / memory (one process; a second process on the same file is refused).
 * With SQLite, sessions live in keyv; the message ledger has its
 * own table and connection in the same file (`:memory:` for memory://), because the ack of
 * every chat frame waits for it and it group-commits admits with plain SQL.
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (/^rediss?:\/\//.test(options.url)) {
    const { keyPrefix = 'bridge:', leaseMs = 10_000 } = options;
    // Loaded only for Redis: the client costs ~65 ms of start-up that SQLite schools need not pay.
    const { openRedisStorage } = await import('./redis/open-redis-storage.js');
    return openRedisStorage({ ...options, keyPrefix, leaseMs });
  }
  // One process per SQLite file: a second one is refused instead of splitting the Stream.
  const lock = options.instanceLock === false ? undefined : await lockSqliteFile(options.url);
  try {
    const storage = await openSqliteStorage(options);
    return lock ? { ...storage, close: () => storage.close().finally(() => lock.release()) } : storage;
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

async function lockSqliteFile(url: string): Promise<SqliteInstanceLock | undefined> {
  const file = /^sqlite:\/\/(.+)$/.exec(url)?.[1];
  if (file === undefined || file === ':memory:') return undefined;
  // The same modes the store gives its folder and files: only the service's account reads them.
  const dir = path.dirname(path.resolve(file));
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of [file, `${file}.lock`]) {
      closeSync(openSync(f, 'a', 0o600));
      chmodSync(f, 0o600);
    }
  } catch (err) {
    throw new StorageError(`cannot open session storage ${url}: ${String(err)}`, { cause: err });
  }
  return SqliteInstanceLock.acquire(file);
}

async function openSqliteStorage(options: StorageOptions): Promise<Storage> {
  const { sessionsKeyv, ledgerFile } = openSessionsKeyv(options.url);
  const opened = ledgerFile === ':memory:' ? undefined : await fileIdentity(ledgerFile);
  sessionsKeyv.on('error', (err: unknown) => options.logger.error('storage error', { err: String(err) }));
  // One connection at a time: switching a new file to WAL needs it to itself.
  await tuneOrFail(sessionsKeyv, options.url);
  let ledger: SqliteMessageLedger | undefined;
  let cardsDb: SqliteConnection | undefined;
  let cards: SqliteOpenCardStore;
  let policy: PolicyStores;
  try {
    ledger = await SqliteMessageLedger.open({ file: ledgerFile, ttlMs: options.ledgerTtlMs });
    // memory:// keeps open cards with the ledger's lifetime: a private in-memory database each.
    cardsDb = await SqliteConnection.open({ file: ledgerFile, busyTimeoutMs: 5_000 });
    cards = await SqliteOpenCardStore.open(cardsDb);
    // Policy writes (quota, audit) sit on a chat answer's path, beside the ledger's: one connection.
    policy = await openSqlitePolicyStores(ledger.connection, (err) =>
      options.logger.error('a policy record could not be written', { err: String(err) }),
    );
  } catch (err) {
    await Promise.allSettled([sessionsKeyv.disconnect(), ledger?.close(), cardsDb?.close()]);
    throw new StorageError(`cannot open session storage ${options.url}: ${String(err)}`, { cause: err });
  }
  let pseudonymKey: string;
  try {
    pseudonymKey = await loadPseudonymKey(sessionsKeyv);
  } catch (err) {
    await Promise.allSettled([sessionsKeyv.disconnect(), ledger.close(), cardsDb.close()]);
    throw new StorageError(`cannot open session storage ${options.url}: ${String(err)}`, { cause: err });
  }
  const storage: Storage = {
    sessions: new KeyvSessionStore(sessionsKeyv, options.logger, isSqlStore(sessionsKeyv) ? SESSIONS_TABLE : undefined),
    ledger,
    cards,
    policy,
    pseudonymKey,
    ping: async () => {
      try {
        await sessionsKeyv.get('__ping__');
        return true;
      } catch {
        return false;
      }
    },
    checkWritable: singleFlight(async () => {
      if (opened) await assertSameFile(ledgerFile, opened);
      try {
        await sessionsKeyv.set('__ping__', Date.now());
      } catch (err) {
        throw new StorageError(`cannot write session storage ${options.url}: ${String(err)}`, { cause: err });
      }
    }),
    sweep: async () => {
      await sweepExpired(sessionsKeyv);
      await ledger.sweep();
      await ledger.connection.run('checkpointing the WAL failed', 'PRAGMA wal_checkpoint(TRUNCATE)');
    },
    close: async () => {
      // Batched policy records go out before the ledger closes the connection they share.
      await Promise.allSettled([policy.quotas.flush(), policy.audit.flush(), policy.transcripts.flush()]);
      await Promise.allSettled([sessionsKeyv.disconnect(), ledger.close(), cardsDb.close()]);
    },
  };
  // Fail at start-up, with a clear message, if the file cannot be written.
  try {
    await storage.checkWritable();
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}

const PSEUDONYM_KEY = '__pseudonym_key__';
const SESSIONS_TABLE = 'sessions';

/**
 * Callers at the same time share one run (health checks, the doctor): a second statement queued
 * on the connection of a write that waits for a lock would hold the event loop (node-sqlite3).
 */
function singleFlight(run: () => Promise<void>): () => Promise<void> {
  let inflight: Promise<void> | undefined;
  return () => {
    inflight ??= run().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}

interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

async function fileIdentity(file: string): Promise<FileIdentity | undefined> {
  const s = await stat(file).catch(() => undefined);
  return s && { dev: s.dev, ino: s.ino };
}

/**
 * SQLite keeps writing to a database file deleted (or replaced) under it, into an inode nobody
 * can open again: everything written from then on is lost at the next restart. Say so.
 */
async function assertSameFile(file: string, opened: FileIdentity): Promise<void> {
  const now = await fileIdentity(file);
  if (!now) throw new StorageError(`the database file ${file} was deleted while the service runs; what it writes now is lost at the next restart`);
  if (now.dev !== opened.dev || now.ino !== opened.ino) {
    throw new StorageError(`the database file ${file} was replaced while the service runs; restart the service to use the new file`);
  }
}

async function loadPseudonymKey(keyv: Keyv): Promise<string> {
  const stored: unknown = await keyv.get(PSEUDONYM_KEY);
  if (typeof stored === 'string' && stored.length >= 32) return stored;
  const made = randomBytes(32).toString('hex');
  await keyv.set(PSEUDONYM_KEY, made); // no TTL: it must outlive every session
  return made;
}

/** The sessions' keyv for `url`, and the SQLite file the ledger opens beside it. */
function openSessionsKeyv(url: string): { sessionsKeyv: Keyv; ledgerFile: string } {
  if (url === 'memory://' || url === 'memory') return { sessionsKeyv: new Keyv({ throwOnErrors: true }), ledgerFile: ':memory:' };
  const match = /^sqlite:\/\/(.+)$/.exec(url);
  if (!match) {
    // Never repeat credentials an unknown URL may carry.
    const shown = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new StorageError(`SESSION_STORAGE must be sqlite://<file>, memory:// or redis://host:port/db, got ${shown}`);
  }
  const file = match[1]!;
  if (file !== ':memory:') createPrivately(file);
  const sessionsKeyv = new Keyv({
    store: new KeyvSqlite({ uri: `sqlite://${file}`, table: SESSIONS_TABLE, busyTimeout: 5000, iterationLimit: 500 }),
    namespace: 'sessions',
    // Keyv swallows store errors by default; a broken disk must surface as a 503, not a miss.
    throwOnErrors: true,
  });
  return { sessionsKeyv, ledgerFile: file };
}

/**
 * The database holds minors' words: its folder (when we create it) is 0700 and the file 0600,
 * readable by the service's user only. SQLite gives the -wal and -shm files the database
 * file's mode. An existing file is narrowed to 0600 too.
 */
function createPrivately(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

async function tuneOrFail(keyv: Keyv, url: string): Promise<void> {
  try {
    await tuneSqlite(keyv);
  } catch (err) {
    await keyv.disconnect().catch(() => undefined);
    throw new StorageError(`cannot open session storage ${url}: ${String(err)}`, { cause: err });
  }
}

/**
 * WAL lets reads run beside a write and makes each commit one sequential append; with
 * synchronous=NORMAL a commit survives a process crash (kill -9), only a power cut may lose
 * the last commits. The ledger's connection sets the same on its own.
 */
async function tuneSqlite(keyv: Keyv): Promise<void> {
  const store = keyv.store as { query?: (sql: string) => Promise<unknown> };
  if (typeof store.query !== 'function') return; // memory://
  await store.query('PRAGMA journal_mode=WAL');
  await store.query('PRAGMA synchronous=NORMAL');
  // Expired sessions (their history holds students' words) are deleted through this connection.
  await store.query('PRAGMA secure_delete=ON');
}

function isSqlStore(keyv: Keyv): boolean {
  return typeof (keyv.store as { query?: unknown }).query === 'function';
}

async function sweepExpired(keyv: Keyv): Promise<void> {
  const store = keyv.store as { query?: (sql: string, ...params: unknown[]) => Promise<unknown> };
  if (typeof store.query === 'function') {
    // One statement instead of keyv's iterator, whose OFFSET paging skips rows it deletes.
    // Keyv keeps `{"value":…,"expires":<ms>}`; records without an expiry (the pseudonym key) stay.
    await store.query(`DELETE FROM sessions WHERE (CASE WHEN json_valid(value) THEN json_extract(value, '$.expires') END) < ?`, Date.now());
    return;
  }
  if (!keyv.iterator) return;
  // memory://: keyv's iterator deletes expired rows as it passes them.
  for await (const _entry of keyv.iterator(undefined));
}
