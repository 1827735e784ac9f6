/**
 * AI cards that were opened and not yet finalized, kept durably so that a card is never left
 * spinning: a card is recorded before its first update and removed once finalized; at start-up
 * every card a crash left open is finalized.
 */
export interface OpenCard {
  /** The card's outTrackId. */
  readonly id: string;
  /** The chat message the card answers (its ledger id). */
  readonly messageId: string;
  /** What the card replier needs to update or finalize it (opaque JSON). */
  readonly target: Readonly<Record<string, unknown>>;
  /** The last text shown in the card. */
  readonly lastText: string;
  /** Epoch ms the card was created. */
  readonly openedAt: number;
}

export interface OpenCardStore {
  /** Records a card or replaces its record (same id). */
  put(card: OpenCard): Promise<void>;
  remove(id: string): Promise<void>;
  /** Every card still open, oldest first. */
  list(): Promise<OpenCard[]>;
}
