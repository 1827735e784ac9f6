/** How a question ended, as the audit trail and the report name it. */
export type AuditOutcome =
  | 'answered'
  | 'failed'
  | 'timeout'
  | 'unavailable'
  | 'rate_limited'
  | 'busy'
  | 'cancelled'
  | 'blocked'
  | 'crisis'
  | 'quota'
  | 'quiet'
  | 'exam'
  | 'limited'
  | 'not_allowed'
  | (string & {});

/**
 * One question's metadata: never its text. Who asked is a pseudonym (an HMAC of the sender with
 * the storage's secret), so the trail shows usage without naming students.
 */
export interface AuditRecord {
  /** Unique per question (the chat message id, an HTTP request id): a replayed question is recorded once. */
  readonly id: string;
  /** Epoch ms the question arrived. */
  readonly at: number;
  readonly transport: 'chat' | 'http';
  readonly user: string;
  readonly role: 'student' | 'teacher';
  readonly conversation: 'dm' | 'group' | 'http';
  /** The group's conversation id and name, for questions asked in a group. */
  readonly groupId?: string;
  readonly groupName?: string;
  /** The model backend configured (ASSISTANT_BACKEND), whether or not it was called. */
  readonly backend: string;
  readonly outcome: AuditOutcome;
  /** From arrival to the reply being ready. */
  readonly latencyMs: number;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
}

/** The audit trail (AUDIT_RETENTION_DAYS): append-only metadata, read by `npm run report`. */
export interface AuditTrail {
  /**
   * Records a question; a second record with the same id is ignored. May be written a moment
   * later, in a batch; `flush` (and every read or delete) waits for what was appended.
   */
  append(record: AuditRecord): Promise<void>;
  /** Resolves once everything appended so far is stored (before a report, a purge or close). */
  flush(): Promise<void>;
  /** Records with `from <= at < to`, oldest first, read page by page. */
  between(from: number, to: number): AsyncIterable<AuditRecord>;
  /** Deletes records older than `before`; resolves how many went. */
  deleteBefore(before: number): Promise<number>;
}
