import type { Logger } from '../../logger.js';
import { readSessionRecord, type SessionRecord, type SessionStore } from '../session-store.js';
import type { RedisConnection } from './redis-connection.js';
import type { SessionPrefetch } from './session-prefetch.js';

/** The Redis key of a conversation's session. */
export function sessionKeyOf(connection: RedisConnection, conversationKey: string): string {
  return connection.key('session', conversationKey);
}

/**
 * Sessions as JSON strings under `session:<key>`, expiring with Redis's own TTL. No local cache:
 * another instance may have written the conversation a moment ago. A value that is not a
 * session record is discarded and logged, like the SQLite store does.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly logger: Logger,
    /** The value read with the conversation's lock, used once instead of a second read. */
    private readonly prefetch?: SessionPrefetch,
  ) {}

  async get(key: string): Promise<SessionRecord | undefined> {
    const prefetched = this.prefetch?.take(key);
    const text = prefetched !== undefined ? prefetched : await this.connection.run('session read failed', (r) => r.get(this.keyOf(key)));
    if (text === null) return undefined;
    const record = readSessionRecord(parse(text));
    if (record) return record;
    this.logger.warn('discarded a corrupt session record', { conversationKey: key });
    await this.delete(key).catch(() => undefined);
    return undefined;
  }

  async set(key: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.prefetch?.drop(key);
    const text = JSON.stringify(record);
    await this.connection.run('session write failed', (r) => r.set(this.keyOf(key), text, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async delete(key: string): Promise<void> {
    this.prefetch?.drop(key);
    await this.connection.run('session delete failed', (r) => r.del(this.keyOf(key)));
  }

  private keyOf(key: string): string {
    return sessionKeyOf(this.connection, key);
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
