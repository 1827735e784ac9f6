import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import { KeyvMessageLedger } from './keyv-message-ledger.js';
import { KeyvSessionStore } from './keyv-session-store.js';
import type { MessageLedger } from './message-ledger.js';
import type { SessionStore } from './session-store.js';

export interface Storage {
  readonly sessions: SessionStore;
  readonly ledger: MessageLedger;
  /** True when the store answers a read (for /healthz). */
  ping(): Promise<boolean>;
  /** Deletes expired sessions and ledger ids so the file does not grow for months. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export interface StorageOptions {
  /** SESSION_STORAGE: `sqlite://<file>` (folder created) or `memory://`. */
  readonly url: string;
  readonly ledgerTtlMs: number;
  readonly logger: Logger;
}

/** Opens the store named by SESSION_STORAGE; sessions and the ledger live in separate tables. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const open = keyvFactory(options.url);
  const onError = (err: unknown) => options.logger.error('storage error', { err: String(err) });
  // One table at a time: switching a new file to WAL needs it to itself.
  const sessionsKeyv = open('sessions').on('error', onError);
  await tuneOrFail(sessionsKeyv, options.url);
  const ledgerKeyv = open('ledger').on('error', onError);
  await tuneOrFail(ledgerKeyv, options.url);
  const storage: Storage = {
    sessions: new KeyvSessionStore(sessionsKeyv, options.logger),
    ledger: new KeyvMessageLedger(ledgerKeyv, options.ledgerTtlMs),
    ping: async () => {
      try {
        await sessionsKeyv.get('__ping__');
        return true;
      } catch {
        return false;
      }
    },
    sweep: async () => (await sweepExpired(sessionsKeyv)) + (await sweepExpired(ledgerKeyv)),
    close: async () => {
      await Promise.allSettled([sessionsKeyv.disconnect(), ledgerKeyv.disconnect()]);
    },
  };
  // Fail at start-up, with a clear message, if the file cannot be opened or written.
  try {
    await sessionsKeyv.set('__ping__', Date.now());
    await ledgerKeyv.get('__ping__');
  } catch (err) {
    await storage.close();
    throw new StorageError(`cannot open session storage ${options.url}: ${String(err)}`, { cause: err });
  }
  return storage;
}

/** Returns a function opening one table (and keyv namespace) of the store named by `url`. */
function keyvFactory(url: string): (table: string) => Keyv {
  if (url === 'memory://' || url === 'memory') return () => new Keyv({ throwOnErrors: true });
  const match = /^sqlite:\/\/(.+)$/.exec(url);
  if (!match) throw new StorageError(`SESSION_STORAGE must be sqlite://<file> or memory://, got ${url}`);
  const file = match[1]!;
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return (table) =>
    new Keyv({
      store: new KeyvSqlite({ uri: `sqlite://${file}`, table, busyTimeout: 5000, iterationLimit: 500 }),
      namespace: table,
      // Keyv swallows store errors by default; a broken disk must surface as a 503, not a miss.
      throwOnErrors: true,
    });
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
 * the last commits. Three small writes per answer stay well under a millisecond each.
 */
async function tuneSqlite(keyv: Keyv): Promise<void> {
  const store = keyv.store as { query?: (sql: string) => Promise<unknown> };
  if (typeof store.query !== 'function') return; // memory://
  await store.query('PRAGMA journal_mode=WAL');
  await store.query('PRAGMA synchronous=NORMAL');
}

async function sweepExpired(keyv: Keyv): Promise<number> {
  if (!keyv.iterator) return 0;
  let live = 0;
  // Keyv's iterator deletes expired rows as it passes them.
  for await (const _entry of keyv.iterator(undefined)) live++;
  return live;
}
