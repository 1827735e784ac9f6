/**
 * The durable record of chat messages the bot has accepted. It is both the redelivery guard
 * (a message id admitted once is never admitted again until it expires) and the journal that
 * lets a restarted process answer work it had acked but not finished.
 */
export interface MessageLedger {
  /**
   * Records a message before it is acked. Resolves false when the id was seen before
   * (a redelivery), in which case the caller acks and drops it.
   */
  admit(entry: LedgerEntry): Promise<boolean>;
  /** Saves progress of an admitted message (e.g. the run that is answering it). */
  update(id: string, progress: Readonly<Record<string, unknown>>): Promise<void>;
  /** The message is answered (or deliberately dropped); keep its id only as a guard. */
  complete(id: string): Promise<void>;
  /** Admitted but not completed messages, oldest first (crash recovery). Only reads. */
  pending(): Promise<LedgerEntry[]>;
  /**
   * The pending messages this process should answer now, oldest first. A ledger shared by
   * several processes returns those whose owner is gone, claimed atomically, so each goes to
   * one process once; without it, recovery answers `pending()`.
   */
  recoverable?(): Promise<LedgerEntry[]>;
  /** Resolves when no admit is waiting or being written (so acks can go out before answers). */
  idle(): Promise<void>;
}

export interface LedgerEntry {
  readonly id: string;
  /** Epoch ms the message was admitted. */
  readonly admittedAt: number;
  /** Everything needed to process the message again, in our own words (no DingTalk frames). */
  readonly payload: unknown;
  readonly progress?: Readonly<Record<string, unknown>>;
}
