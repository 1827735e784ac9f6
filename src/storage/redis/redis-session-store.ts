import type { Logger } from '../../logger.js';
import { type ExpiredSession, readSessionRecord, type SessionRecord, type SessionStore } from '../session-store.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';
import type { SessionPrefetch } from './session-prefetch.js';

/** The Redis key of a conversation's session. */
export function sessionKeyOf(connection: RedisConnection, conversationKey: string): string {
  return connection.key('session', conversationKey);
}

/**
 * Redis keeps an expired session this much longer than its idle TTL, so the hourly sweep can
 * read it (and delete the vendor's copy) before Redis drops it on its own.
 */
const EXPIRED_KEPT_MS = 3 * 60 * 60_000;

/** A write this recent (none failed since) proves the store takes writes (see `checkWritable`). */
const WRITE_PROOF_MS = 1_000;

// KEYS: the expiry index. ARGV: session key prefix, before, limit. Takes up to `limit` sessions
// whose idle expiry is before `before`, soonest first: returns [key, value, …] and deletes them.
// A session written again since (a later expiry) is left alone; a lost one only leaves the index.
const TAKE_EXPIRED = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, member in ipairs(due) do
  local key = ARGV[1] .. member
  local value = redis.call('GET', key)
  redis.call('ZREM', KEYS[1], member)
  if value then
    redis.call('DEL', key)
    table.insert(out, member)
    table.insert(out, value)
  end
end
return out`;

/**
 * Sessions as JSON `{record, expiresAt}` under `session:<key>`, with a sorted set of idle
 * expiries beside them. A session past its expiry reads as absent but stays in Redis until the
 * sweep takes it (`takeExpired`), so its upstream copy can be deleted; Redis's own TTL removes
 * it a few hours later in any case. No local cache: another instance may have written the
 * conversation a moment ago. A value that is not a session record is discarded and logged.
 */
export class RedisSessionStore implements SessionStore {
  private readonly takeDue: RedisScript;
  private lastWriteAt = 0;
  private writeFailed = false;

  constructor(
    private readonly connection: RedisConnection,
    private readonly logger: Logger,
    /** The value read with the conversation's lock, used once instead of a second read. */
    private readonly prefetch?: SessionPrefetch,
    private readonly now: () => number = Date.now,
  ) {
    this.takeDue = connection.script(TAKE_EXPIRED, 1);
  }

  async get(key: string): Promise<SessionRecord | undefined> {
    const prefetched = this.prefetch?.take(key);
    const text = prefetched !== undefined ? prefetched : await this.connection.run('session read failed', (r) => r.get(this.keyOf(key)));
    if (text === null) return undefined;
    const stored = readStored(text);
    if (stored === 'expired') return undefined; // the sweep takes it
    if (stored) return stored;
    this.logger.warn('discarded a corrupt session record', { conversationKey: key });
    await this.delete(key).catch(() => undefined);
    return undefined;
  }

  async set(key: string, record: SessionRecord, ttlMs: number): Promise<void> {
    this.prefetch?.drop(key);
    const ttl = Math.max(1, Math.round(ttlMs));
    const expiresAt = this.now() + ttl;
    const text = JSON.stringify({ record, expiresAt });
    await this.noteWrite(
      this.connection.run('session write failed', (r) =>
        r.multi().set(this.keyOf(key), text, 'PX', ttl + EXPIRED_KEPT_MS).zadd(this.indexKey(), expiresAt, key).exec(),
      ),
    );
  }

  /**
   * A write that succeeded within the last second, with none failed since, is the proof;
   * otherwise a small write now (commands fail at once while Redis is unreachable).
   */
  async checkWritable(): Promise<void> {
    if (!this.writeFailed && this.now() - this.lastWriteAt < WRITE_PROOF_MS) return;
    await this.noteWrite(this.connection.run('session store write check failed', (r) => r.set(this.connection.key('write-probe'), String(this.now()), 'PX', 60_000)));
  }

  private async noteWrite<T>(write: Promise<T>): Promise<T> {
    try {
      const result = await write;
      this.lastWriteAt = this.now();
      this.writeFailed = false;
      return result;
    } catch (err) {
      this.writeFailed = true;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    this.prefetch?.drop(key);
    await this.connection.run('session delete failed', (r) => r.multi().del(this.keyOf(key)).zrem(this.indexKey(), key).exec());
  }

  async takeExpired(before: number, limit: number): Promise<ExpiredSession[]> {
    const flat = (await this.connection.run('expired session removal failed', () =>
      this.takeDue([this.indexKey()], [this.keyOf(''), before, limit]),
    )) as string[];
    const taken: ExpiredSession[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const record = recordOf(flat[i + 1]!);
      if (record) taken.push({ key: flat[i]!, record });
    }
    return taken;
  }

  private keyOf(key: string): string {
    return sessionKeyOf(this.connection, key);
  }

  private indexKey(): string {
    return this.connection.key('session-expiries');
  }
}

/** The stored session, 'expired' when its idle time is over, undefined when it is not one. */
function readStored(text: string, now = Date.now()): SessionRecord | 'expired' | undefined {
  const value = parse(text) as { record?: unknown; expiresAt?: unknown } | undefined;
  if (value && typeof value.expiresAt === 'number' && value.record !== undefined) {
    if (value.expiresAt <= now) return 'expired';
    return readSessionRecord(value.record);
  }
  return readSessionRecord(value); // written before the expiry index existed
}

function recordOf(text: string): SessionRecord | undefined {
  const value = parse(text) as { record?: unknown } | undefined;
  return readSessionRecord(value && value.record !== undefined ? value.record : value);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
