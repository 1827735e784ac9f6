/**
 * Remembers that a one-time notice was given ("resting now" once per quiet period, "exam in
 * progress" once per exam, the personal-data notice once per conversation, a counsellor alert
 * once per interval), so the bot does not repeat itself in a group. Keys hold pseudonyms only.
 */
export interface NoticeMemory {
  /**
   * Resolves true when no live claim on `key` exists (the notice should go out) and records one
   * until `expiresAt`; false while an earlier claim lives. Atomic: of two concurrent claims one wins.
   */
  claim(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Forgets claims that expired before `now`. */
  deleteExpired(now: number): Promise<number>;
}
