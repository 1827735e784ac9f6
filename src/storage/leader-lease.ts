import type { ConversationLocks } from './conversation-locks.js';

/**
 * A named lease at most one process holds at a time. It expires `ttlMs` after its last renewal,
 * so a holder killed with SIGKILL frees it without help; the holder renews it well before.
 */
export interface LeaderLease {
  readonly ttlMs: number;
  /** Takes the lease if it is free (or already ours); true when this process holds it now. */
  acquire(): Promise<boolean>;
  /** Extends our hold; false when the lease is no longer ours (it expired and may be taken). */
  renew(): Promise<boolean>;
  /** Frees the lease if it is ours, so another process can take it at once. */
  release(): Promise<void>;
}

/**
 * What processes sharing one store (Redis) need to stay out of each other's way. A store only
 * one process may use (SQLite, memory) has none.
 */
export interface SharedCoordination {
  /** This process's name in the store (host, pid and a random part). */
  readonly instanceId: string;
  /** One turn of a conversation at a time across processes. */
  readonly locks: ConversationLocks;
  /** The one DingTalk Stream connection: only the holder opens it. */
  readonly streamLease: LeaderLease;
}
