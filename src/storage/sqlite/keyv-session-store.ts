import type Keyv from 'keyv';
import { StorageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { type ExpiredSession, readSessionRecord, type SessionRecord, type SessionStore } from '../session-store.js';

/** Records kept in memory; older ones are read from SQLite again when needed. */
const CACHE_ENTRIES = 10_000;

/**
 * Sessions in keyv. Keyv stores the expiry inside the record, so an idle session stays expired
 * after a restart; a record that does not look like a session is discarded and logged.
 * One process owns the file, so a write-through cache of recent records saves a SQLite read on
 * almost every question.
 */
export class KeyvSessionStore implements SessionStore {
  private readonly cache = new Map<string, { record: SessionRecord; expiresAt: number }>();

  constructor(
    private readonly keyv: Keyv,
    private readonly logger: Logger,
    /** The SQLite table keyv keeps the sessions in; absent for memory:// (a Map). */
    private readonly sqlTable?: string,
  ) {}

  async get(key: string): Promise<SessionRecord | undefined> {
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.record;
    this.cache.delete(key);
    let value: unknown;
    try {
      value = await this.keyv.get(key);
    } catch (err) {
      if (!isCorruptRecord(err)) throw new StorageError(`session read failed: ${message(err)}`, { cause: err });
      value = null; // unparseable JSON: treat like a record of the wrong shape
    }
    if (value === undefined) return undefined;
    const record = readSessionRecord(value);
    if (record) return record;
    this.logger.warn('discarded a corrupt session record', { conversationKey: key });
    await this.delete(key).catch(() => undefined);
    return undefined;
  }

  async set(key: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.cache.delete(key); // never serve a record the store may not have
    try {
      await this.keyv.set(key, record, ttlMs);
    } catch (err) {
      throw new StorageError(`session write failed: ${message(err)}`, { cause: err });
    }
    this.remember(key, record, Date.now() + ttlMs);
  }

  async delete(key: string): Promise<void> {
    this.cache.delete(key);
    try {
      await this.keyv.delete(key);
    } catch (err) {
      throw new StorageError(`session delete failed: ${message(err)}`, { cause: err });
    }
  }

  async takeExpired(before: number, limit: number): Promise<ExpiredSession[]> {
    let rows: Array<{ key: string; value: unknown }>;
    try {
      rows = this.sqlTable ? await this.takeExpiredRows(this.sqlTable, before, limit) : await this.takeExpiredEntries(before, limit);
    } catch (err) {
      throw new StorageError(`expired session removal failed: ${message(err)}`, { cause: err });
    }
    const taken: ExpiredSession[] = [];
    for (const row of rows) {
      const key = this.unprefixed(row.key);
      this.cache.delete(key);
      const data = (await this.keyv.deserializeData(row.value as string).catch(() => undefined)) as { value?: unknown } | undefined;
      const record = readSessionRecord(data?.value);
      if (record) taken.push({ key, record });
    }
    return taken;
  }

  /** One statement: the rows go and come back together, so none is listed and left or deleted unread. */
  private async takeExpiredRows(table: string, before: number, limit: number): Promise<Array<{ key: string; value: unknown }>> {
    const store = this.keyv.store as { query: (sql: string, ...params: unknown[]) => Promise<Array<{ key: string; value: unknown }>> };
    const expires = `(CASE WHEN json_valid(value) THEN json_extract(value, '$.expires') END)`;
    return store.query(
      `DELETE FROM ${table} WHERE key IN (SELECT key FROM ${table} WHERE ${expires} < ? ORDER BY ${expires} LIMIT ?) RETURNING key, value`,
      before,
      limit,
    );
  }

  /** memory://: keyv's Map, read directly (keyv's own reads delete expired entries unseen). */
  private async takeExpiredEntries(before: number, limit: number): Promise<Array<{ key: string; value: unknown }>> {
    const map = this.keyv.store as Map<string, unknown>;
    const expired: Array<{ key: string; value: unknown; expires: number }> = [];
    for (const [key, value] of map) {
      const data = (await this.keyv.deserializeData(value as string).catch(() => undefined)) as { expires?: unknown } | undefined;
      if (typeof data?.expires === 'number' && data.expires < before) expired.push({ key, value, expires: data.expires });
    }
    const taken = expired.sort((a, b) => a.expires - b.expires).slice(0, limit);
    for (const { key } of taken) map.delete(key);
    return taken;
  }

  private unprefixed(key: string): string {
    const namespace = this.keyv.namespace;
    return namespace && key.startsWith(`${namespace}:`) ? key.slice(namespace.length + 1) : key;
  }

  private remember(key: string, record: SessionRecord, expiresAt: number): void {
    this.cache.set(key, { record, expiresAt });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }
}

function isCorruptRecord(err: unknown): boolean {
  return err instanceof SyntaxError;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
