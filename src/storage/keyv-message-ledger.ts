import type Keyv from 'keyv';
import { StorageError } from '../errors.js';
import type { LedgerEntry, MessageLedger } from './message-ledger.js';

interface StoredEntry extends LedgerEntry {
  readonly done: boolean;
}

/**
 * The message ledger in keyv. `admit` is check-then-set; that is safe because one process owns
 * the Stream connection and admits are serialised per id by the in-memory `inFlight` set.
 */
export class KeyvMessageLedger implements MessageLedger {
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly keyv: Keyv,
    /** How long an id is remembered; longer than DingTalk's redelivery window. */
    private readonly ttlMs: number,
  ) {}

  async admit(entry: LedgerEntry): Promise<boolean> {
    if (this.inFlight.has(entry.id)) return false;
    this.inFlight.add(entry.id);
    try {
      if ((await this.read(entry.id)) !== undefined) return false;
      await this.write({ ...entry, done: false });
      return true;
    } finally {
      this.inFlight.delete(entry.id);
    }
  }

  async update(id: string, progress: Readonly<Record<string, unknown>>): Promise<void> {
    const current = await this.read(id);
    if (!current || current.done) return;
    await this.write({ ...current, progress: { ...current.progress, ...progress } });
  }

  async complete(id: string): Promise<void> {
    const current = await this.read(id);
    // Keep only the id and time: the payload (a student's question) is not needed any more.
    await this.write({ id, admittedAt: current?.admittedAt ?? Date.now(), payload: null, done: true });
  }

  async pending(): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    try {
      if (!this.keyv.iterator) return out;
      for await (const [, value] of this.keyv.iterator(undefined)) {
        const entry = value as StoredEntry | undefined;
        if (entry && entry.done === false && typeof entry.id === 'string') out.push(entry);
      }
    } catch (err) {
      throw new StorageError(`ledger scan failed: ${String(err)}`, { cause: err });
    }
    return out.sort((a, b) => a.admittedAt - b.admittedAt);
  }

  private async read(id: string): Promise<StoredEntry | undefined> {
    try {
      return (await this.keyv.get(id)) as StoredEntry | undefined;
    } catch (err) {
      if (err instanceof SyntaxError) return undefined; // corrupt row: treat as unseen
      throw new StorageError(`ledger read failed: ${String(err)}`, { cause: err });
    }
  }

  private async write(entry: StoredEntry): Promise<void> {
    try {
      await this.keyv.set(entry.id, entry, this.ttlMs);
    } catch (err) {
      throw new StorageError(`ledger write failed: ${String(err)}`, { cause: err });
    }
  }
}
