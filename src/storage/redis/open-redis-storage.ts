import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../../logger.js';
import type { Storage } from '../open-storage.js';
import { RedisConnection, toStorageError } from './redis-connection.js';
import { redactRedisUrl } from './redis-url.js';
import { RedisConversationLocks } from './redis-conversation-locks.js';
import { RedisInstance } from './redis-instance.js';
import { RedisLeases } from './redis-leases.js';
import { RedisMessageLedger } from './redis-message-ledger.js';
import { RedisOpenCardStore } from './redis-open-card-store.js';
import { openRedisPolicyStores } from './redis-policy-stores.js';
import { RedisSessionStore } from './redis-session-store.js';
import { SessionPrefetch } from './session-prefetch.js';

export interface RedisStorageOptions {
  readonly url: string;
  /** REDIS_KEY_PREFIX */
  readonly keyPrefix: string;
  /** REDIS_LEASE_SECONDS, in ms. */
  readonly leaseMs: number;
  readonly ledgerTtlMs: number;
  readonly logger: Logger;
}

/**
 * Everything several instances must share, in one Redis: sessions, the message ledger, open
 * cards, school policy's records (quotas, exams, notices, audit, transcripts), the pseudonym
 * secret, conversation locks and the Stream lease. Fails at start-up with
 * a StorageError naming the (password-free) URL when Redis cannot be reached.
 */
export async function openRedisStorage(options: RedisStorageOptions): Promise<Storage> {
  const { logger, leaseMs } = options;
  const connection = await RedisConnection.open({ url: options.url, keyPrefix: options.keyPrefix, logger });
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  let instance: RedisInstance;
  let pseudonymKey: string;
  try {
    pseudonymKey = await loadPseudonymKey(connection);
    instance = new RedisInstance(connection, instanceId, leaseMs, { key: pseudonymKeyOf(connection), value: pseudonymKey }, logger);
    await instance.start();
  } catch (err) {
    await connection.close();
    throw toStorageError(`cannot open session storage ${redactRedisUrl(options.url)}`, err);
  }
  const leases = new RedisLeases(connection);
  const prefetch = new SessionPrefetch();
  const locks = new RedisConversationLocks(connection, leases, leaseMs, logger, prefetch);
  const ledger = new RedisMessageLedger({ connection, instanceId, ttlMs: options.ledgerTtlMs });
  const policy = openRedisPolicyStores(connection, (err) => logger.error('a policy record could not be written', { err: String(err) }));
  logger.info('session storage: redis', { url: redactRedisUrl(options.url), keyPrefix: options.keyPrefix, instanceId });
  return {
    sessions: new RedisSessionStore(connection, logger, prefetch),
    ledger,
    cards: new RedisOpenCardStore(connection, instanceId),
    policy,
    pseudonymKey,
    coordination: { instanceId, locks, streamLease: leases.lease('stream', instanceId, leaseMs) },
    ping: () => connection.ping(),
    checkWritable: async () => {
      await connection.run('cannot write session storage (Redis)', (r) => r.set(connection.key('write-check'), String(Date.now()), 'PX', 60_000));
    },
    // Redis expires sessions and ledger ids itself; the Stream holder's recovery drops stale ids.
    sweep: async () => undefined,
    close: async () => {
      locks.close();
      await Promise.allSettled([ledger.idle(), policy.audit.flush(), policy.transcripts.flush()]);
      await instance.stop();
      await connection.close();
    },
  };
}

function pseudonymKeyOf(connection: RedisConnection): string {
  return connection.key('pseudonym-key');
}

/** Made by the first instance ever, then read by every other one (set-if-absent). */
async function loadPseudonymKey(connection: RedisConnection): Promise<string> {
  const key = pseudonymKeyOf(connection);
  const made = randomBytes(32).toString('hex');
  return connection.run('reading the pseudonym key failed', async (r) => {
    await r.set(key, made, 'NX');
    const stored = await r.get(key);
    if (typeof stored !== 'string' || stored.length < 32) throw new Error('the stored pseudonym key is missing or too short');
    return stored;
  });
}
