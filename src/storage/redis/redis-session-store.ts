import type { Logger } from '../../logger.js';
import { readSessionRecord, type SessionRecord, type SessionStore } from '../session-store.js';
import type { RedisConnection } from './redis-connection.js';

/**
 * Sessions as JSON strings under `session:<key>`, expiring with Redis's own TTL. No local cache:
 * another instance may have written the conversation a moment ago. A value that is not a
 * session record is discarded and logged, like the SQLite store does.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly connection: RedisConnection,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<SessionRecord | undefined> {
    const text = await this.connection.run('session read failed', (r) => r.get(this.keyOf(key)));
    if (text === null) return undefined;
    const record = readSessionRecord(parse(text));
    if (record) return record;
    this.logger.warn('discarded a corrupt session record', { conversationKey: key });
    await this.delete(key).catch(() => undefined);
    return undefined;
  }

  async set(key: string, record: SessionRecord, ttlMs: number): Promise<void> {
    const text = JSON.stringify(record);
    await this.connection.run('session write failed', (r) => r.set(this.keyOf(key), text, 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async delete(key: string): Promise<void> {
    await this.connection.run('session delete failed', (r) => r.del(this.keyOf(key)));
  }

  private keyOf(key: string): string {
    return this.connection.key('session', key);
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
