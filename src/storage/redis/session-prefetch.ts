/**
 * The session value read in the same step that took a conversation's lock, kept for the turn's
 * first read: while this process holds the lock nobody else writes that session, so the value
 * is current and the read costs no second round trip. Any write or the release drops it.
 */
export class SessionPrefetch {
  private readonly values = new Map<string, string | null>();

  put(conversationKey: string, value: string | null): void {
    this.values.set(conversationKey, value);
  }

  /** The prefetched value once (null: no session), or undefined when there is none to use. */
  take(conversationKey: string): string | null | undefined {
    const value = this.values.get(conversationKey);
    this.values.delete(conversationKey);
    return value;
  }

  drop(conversationKey: string): void {
    this.values.delete(conversationKey);
  }
}
