import { randomUUID } from 'node:crypto';
import type { ConversationLocks, HeldConversation } from '../conversation-locks.js';
import type { Logger } from '../../logger.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisLeases } from './redis-leases.js';

/** Waiting for another process's turn: first retry soon, then at most this often. */
const MAX_POLL_MS = 100;

/**
 * A lease per conversation key in Redis (`lock:<key>`), so two processes never run one
 * conversation's turns at once. All commands go through one connection, in order. A waiting turn polls (5 ms doubling to 100 ms) until the
 * holder releases or the deadline passes; held leases are renewed together every third of the
 * lease, so a long answer keeps its lock and a killed holder frees it within one lease.
 */
export class RedisConversationLocks implements ConversationLocks {
  /** Held locks: token → key. */
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly connection: RedisConnection,
    private readonly leases: RedisLeases,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.renewAll(), Math.max(100, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  async acquire(conversationKey: string, deadline: number, signal?: AbortSignal): Promise<HeldConversation | undefined> {
    const key = this.connection.key('lock', conversationKey);
    const token = randomUUID();
    for (let delay = 5; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      if (await this.leases.take(key, token, this.ttlMs)) {
        this.held.set(token, key);
        return { release: () => this.release(token, key) };
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

  /** Sent at once; later takes on this connection run after it, so nobody waits for the reply. */
  private release(token: string, key: string): void {
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
