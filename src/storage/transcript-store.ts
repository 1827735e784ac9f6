/** A question and its answer, kept only when the school enabled a review period. */
export interface TranscriptEntry {
  /** The audit record's id, so the two can be matched. */
  readonly id: string;
  readonly at: number;
  /** Pseudonym of the asker, as in the audit trail. */
  readonly user: string;
  readonly role: 'student' | 'teacher';
  readonly conversation: 'dm' | 'group' | 'http';
  readonly groupName?: string;
  /** The question as the model received it (personal data already masked). */
  readonly question: string;
  readonly answer: string;
}

/**
 * Full question and answer text for a teacher review period (TRANSCRIPT_RETENTION_DAYS > 0);
 * nothing is written when the period is 0. Purged like the audit trail.
 */
export interface TranscriptStore {
  /** Records a transcript; may be written a moment later, in a batch (see AuditTrail.append). */
  append(entry: TranscriptEntry): Promise<void>;
  /** Resolves once everything appended so far is stored. */
  flush(): Promise<void>;
  between(from: number, to: number): AsyncIterable<TranscriptEntry>;
  deleteBefore(before: number): Promise<number>;
}
