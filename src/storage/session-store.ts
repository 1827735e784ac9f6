/**
 * What the engine remembers about one conversation: which backend holds it, that backend's own
 * state (opaque JSON: a thread id, a trimmed history, a conversation id) and the idle clock.
 */
export interface SessionRecord {
  /** The backend's name; a record of another backend is discarded, not misread. */
  readonly backend: string;
  readonly state: Readonly<Record<string, unknown>>;
  /** Epoch ms of the last write; the idle clock. */
  readonly lastActiveAt: number;
}

/** Sessions by conversation key; records expire `ttlMs` after their last write. */
export interface SessionStore {
  get(key: string): Promise<SessionRecord | undefined>;
  set(key: string, record: SessionRecord, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Resolves once the store has shown it takes writes: a small write now, or one that succeeded
   * within the last second with none failed since; throws StorageError otherwise. The engine
   * calls it before a question reaches the model, so a store that cannot write (disk full,
   * read-only, locked) stops the question before it costs an upstream run.
   */
  checkWritable(): Promise<void>;

  /**
   * Removes up to `limit` sessions whose expiry is before `before` (epoch ms), soonest expired
   * first, and returns them with their records, so the vendor's copy of each conversation can
   * be deleted too. Atomic per session: one written again meanwhile (live) is never removed.
   * Called in a loop until it returns fewer than `limit`. A session `get` found expired must not
   * vanish unseen: it is handed out here too (the SQLite adapter keeps such records aside).
   */
  takeExpired(before: number, limit: number): Promise<ExpiredSession[]>;
}

/** A session the store removed because it expired, as it was when it expired. */
export interface ExpiredSession {
  readonly key: string;
  readonly record: SessionRecord;
}

/**
 * The record if `value` is one, upgrading the thread-only records written before several
 * backends existed (`{threadId, lastActiveAt, pending…}`); undefined for anything else.
 */
export function readSessionRecord(value: unknown): SessionRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.lastActiveAt !== 'number') return undefined;
  if (typeof r.backend === 'string' && typeof r.state === 'object' && r.state !== null && !Array.isArray(r.state)) {
    return { backend: r.backend, state: r.state as Record<string, unknown>, lastActiveAt: r.lastActiveAt };
  }
  if (typeof r.threadId === 'string' && r.threadId !== '') {
    const { lastActiveAt, ...state } = r;
    return { backend: 'dingtalk-assistant', state, lastActiveAt: lastActiveAt as number };
  }
  return undefined;
}
