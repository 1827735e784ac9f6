import type Keyv from 'keyv';
import type { ConversationKey } from '../engine/conversation-key.js';
import { StorageError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SessionRecord, SessionStore } from './session-store.js';

/**
 * Sessions in keyv. Keyv stores the expiry inside the record, so an idle session stays expired
 * after a restart; a record that does not look like a session is discarded and logged.
 */
export class KeyvSessionStore implements SessionStore {
  constructor(
    private readonly keyv: Keyv,
    private readonly logger: Logger,
  ) {}

  async get(key: ConversationKey): Promise<SessionRecord | undefined> {
    let value: unknown;
    try {
      value = await this.keyv.get(key);
    } catch (err) {
      if (!isCorruptRecord(err)) throw new StorageError(`session read failed: ${message(err)}`, { cause: err });
      value = null; // unparseable JSON: treat like a record of the wrong shape
    }
    if (value === undefined) return undefined;
    if (isSessionRecord(value)) return value;
    this.logger.warn('discarded a corrupt session record', { conversationKey: key });
    await this.delete(key).catch(() => undefined);
    return undefined;
  }

  async set(key: ConversationKey, record: SessionRecord, ttlMs: number): Promise<void> {
    try {
      await this.keyv.set(key, record, ttlMs);
    } catch (err) {
      throw new StorageError(`session write failed: ${message(err)}`, { cause: err });
    }
  }

  async delete(key: ConversationKey): Promise<void> {
    try {
      await this.keyv.delete(key);
    } catch (err) {
      throw new StorageError(`session delete failed: ${message(err)}`, { cause: err });
    }
  }
}

function isSessionRecord(v: unknown): v is SessionRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.threadId === 'string' &&
    r.threadId.length > 0 &&
    typeof r.lastActiveAt === 'number' &&
    (r.pendingRunId === undefined || typeof r.pendingRunId === 'string') &&
    (r.pendingRequestId === undefined || typeof r.pendingRequestId === 'string')
  );
}

function isCorruptRecord(err: unknown): boolean {
  return err instanceof SyntaxError;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
