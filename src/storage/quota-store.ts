/** One asker's questions on one school day. */
export interface QuotaUsage {
  /** Questions counted so far. */
  readonly used: number;
  /** Extra questions a teacher allowed for that day. */
  readonly granted: number;
}

/**
 * Daily question counts per asker (STUDENT_DAILY_QUOTA), kept durably so a restart does not
 * reset them. `subject` is a pseudonym of the asker, `day` the school's local date (YYYY-MM-DD).
 * Every method is atomic on its own: two questions at once never both take the last one.
 */
export interface QuotaStore {
  /**
   * Counts one question when fewer than `limit` + granted were counted; resolves the usage after
   * it, or undefined when the limit is reached (nothing is counted then).
   */
  take(subject: string, day: string, limit: number): Promise<QuotaUsage | undefined>;
  /** Undoes one `take` (the question failed through no fault of the asker). */
  giveBack(subject: string, day: string): Promise<void>;
  /** Allows `extra` more questions on that day; resolves the usage after. */
  grant(subject: string, day: string, extra: number): Promise<QuotaUsage>;
  usage(subject: string, day: string): Promise<QuotaUsage>;
  /** Resolves once every count so far is stored (an adapter may write counts in the background). */
  flush(): Promise<unknown>;
  /** Forgets every day before `day`; resolves how many records went. */
  deleteBefore(day: string): Promise<number>;
}
