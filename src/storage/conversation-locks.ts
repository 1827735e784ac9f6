/** This process's hold on one conversation, shared with other processes; release it after the turn. */
export interface HeldConversation {
  /**
   * Frees the key without making the caller wait (the answer need not wait for the store): an
   * acquisition this process asks for afterwards is ordered after the release. A failure is
   * logged; the lease then expires on its own.
   */
  release(): void;
}

/**
 * Keeps two processes from running turns of one conversation at once (several instances on one
 * Redis). The engine takes a lock around each turn, inside its own per-conversation lane; a
 * single process (SQLite) needs none. Keyed by the conversation key as a plain string.
 */
export interface ConversationLocks {
  /**
   * Resolves once this process holds `key`, waiting while another process holds it; resolves
   * undefined when `deadline` (epoch ms) passes or `signal` aborts first. Rejects with a
   * StorageError when the store cannot be reached. A holder that dies frees the key when its
   * lease expires.
   */
  acquire(key: string, deadline: number, signal?: AbortSignal): Promise<HeldConversation | undefined>;
}
