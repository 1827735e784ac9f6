import { randomUUID } from 'node:crypto';
import type { ConversationLocks, HeldConversation } from '../conversation-locks.js';
import type { Logger } from '../../logger.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';
import type { RedisLeases } from './redis-leases.js';
import type { SessionPrefetch } from './session-prefetch.js';
import { sessionKeyOf } from './redis-session-store.js';

// KEYS: lock, session. ARGV: token, ttl. Takes the lock if free and, in the same step, reads
// the conversation's session (nobody else can write it until we release).
const TAKE_AND_READ = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return {0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, redis.call('GET', KEYS[2])}`;

/** Waiting for another process's turn: first retry soon, then at most this often. */
const MAX_POLL_MS = 100;

/**
 * A lease per conversation key in Redis (`lock:<key>`), so two processes never run one
 * conversation's turns at once. All commands go through one connection, in order. Taking the
 * lock also reads the session (one round trip for both). A waiting turn polls (5 ms doubling
 * to 100 ms) until the holder releases or the deadline passes; held leases are renewed together
 * every third of the lease, so a long answer keeps its lock and a killed holder frees it within
 * one lease.
 */
export class RedisConversationLocks implements ConversationLocks {
  /** Held locks: token → key. */
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly takeAndRead: RedisScript;

  constructor(
    private readonly connection: RedisConnection,
    private readonly leases: RedisLeases,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly prefetch: SessionPrefetch,
  ) {
    this.takeAndRead = connection.script(TAKE_AND_READ, 2);
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async acquire(conversationKey: string, deadline: number, signal?: AbortSignal): Promise<HeldConversation | undefined> {
    const key = this.connection.key('lock', conversationKey);
    const token = randomUUID();
    for (let delay = 5; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      if (await this.take(conversationKey, key, token)) {
        this.held.set(token, key);
        return { release: () => this.release(token, key, conversationKey) };
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) return undefined;
      await pause(Math.min(delay, left), signal);
    }
  }

  /** Stops renewing (the store closes next; leases still held expire on their own). */
  close(): void {
    clearInterval(this.timer);
  }

  private async take(conversationKey: string, key: string, token: string): Promise<boolean> {
    const sessionKey = sessionKeyOf(this.connection, conversationKey);
    const reply = (await this.connection.run(`taking lock ${key}`, () =>
      this.takeAndRead([key, sessionKey], [token, this.ttlMs]),
    )) as [number, (string | null)?];
    if (reply[0] !== 1) return false;
    this.prefetch.put(conversationKey, reply[1] ?? null);
    return true;
  }

  /** Sent at once; later takes on this connection run after it, so nobody waits for the reply. */
  private release(token: string, key: string, conversationKey: string): void {
    this.prefetch.drop(conversationKey);
    this.held.delete(token);
    this.leases.release(key, token).catch((err: unknown) => {
      this.logger.warn('could not release a conversation lock (it expires on its own)', { lock: key, err: String(err) });
    });
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held].map(async ([token, key]) => {
        try {
          if (!(await this.leases.renew(key, token, this.ttlMs)) && this.held.has(token)) {
            // Redis lost it (restarted without persistence, or unreachable for a whole lease).
            this.logger.warn('a conversation lock expired while its turn was running', { lock: key });
          }
        } catch {
          // Unreachable: the next renewal tries again; the store's own log says Redis is down.
        }
      }),
    );
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
