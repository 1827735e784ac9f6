import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { httpConversationKey } from '../../src/engine/conversation-key.js';
import { checkStorageUrl } from '../../src/health/storage-check.js';
import { StorageError } from '../../src/errors.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { RedisConnection } from '../../src/storage/redis/redis-connection.js';
import { RedisMessageLedger } from '../../src/storage/redis/redis-message-ledger.js';
import { captureLogger, type CapturedLogs } from '../helpers/capture-logs.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { useSharedRedis } from '../helpers/shared-redis.js';

/**
 * The Redis adapters against a real redis-server: everything several instances share (sessions,
 * the ledger, open cards, the pseudonym secret) behaves like the SQLite store, and pending work
 * is handed to exactly one instance, only once its owner is gone.
 */
const redis = useSharedRedis();
const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.allSettled(toClose.splice(0).reverse().map((c) => c.close()));
});

async function open(prefix: string, logs: CapturedLogs = captureLogger(), leaseMs = 2_000): Promise<Storage> {
  const storage = await openStorage({ url: redis.url, keyPrefix: prefix, leaseMs, ledgerTtlMs: 60_000, logger: logs.logger });
  toClose.push(storage);
  return storage;
}

/** A raw client, as an operator's redis-cli would see the data. */
function raw(): Redis {
  const client = new Redis(redis.url, { lazyConnect: false });
  toClose.push({ close: async () => void client.disconnect() });
  return client;
}

const key = httpConversationKey('6f1c2b9e-8d4a-4c1e-9f3a-2b7d5e8c1a00');
const record = (state: Record<string, unknown>) => ({ backend: 'openai', state, lastActiveAt: Date.now() });

describe('Redis sessions', () => {
  it('are shared by every instance on the store, expire with their TTL, and can be deleted', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    await a.sessions.set(key, record({ turns: [['q', 'a']] }), 60_000);
    expect((await b.sessions.get(key))?.state).toEqual({ turns: [['q', 'a']] });
    await b.sessions.set(key, record({ turns: [] }), 60_000);
    expect((await a.sessions.get(key))?.state).toEqual({ turns: [] }); // no stale local copy
    await a.sessions.delete(key);
    expect(await b.sessions.get(key)).toBeUndefined();
    await a.sessions.set(key, record({}), 80);
    await new Promise((r) => setTimeout(r, 200));
    expect(await b.sessions.get(key)).toBeUndefined();
    // Another prefix is another deployment: it sees nothing of this one.
    await a.sessions.set(key, record({ x: 1 }), 60_000);
    expect(await (await open(uniquePrefix())).sessions.get(key)).toBeUndefined();
  });

  it('discards and logs a record that is not a session', async () => {
    const prefix = uniquePrefix();
    const logs = captureLogger();
    const storage = await open(prefix, logs);
    await raw().set(`${prefix}session:${key}`, '{not json');
    expect(await storage.sessions.get(key)).toBeUndefined();
    await raw().set(`${prefix}session:${key}`, JSON.stringify({ threadId: 5 }));
    expect(await storage.sessions.get(key)).toBeUndefined();
    expect(logs.records().filter((r) => r.message === 'discarded a corrupt session record')).toHaveLength(2);
    expect(await raw().exists(`${prefix}session:${key}`)).toBe(0);
  });

  it('keeps one pseudonym secret for every instance, across restarts', async () => {
    const prefix = uniquePrefix();
    const first = await open(prefix);
    const second = await open(prefix);
    expect(first.pseudonymKey).toMatch(/^[0-9a-f]{64}$/);
    expect(second.pseudonymKey).toBe(first.pseudonymKey);
    await first.close();
    expect((await open(prefix)).pseudonymKey).toBe(first.pseudonymKey);
    expect((await open(uniquePrefix())).pseudonymKey).not.toBe(first.pseudonymKey);
  });
});

describe('Redis message ledger', () => {
  it('admits an id once across instances, even when both try at the same moment', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const tries = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).ledger.admit({ id: 'same', admittedAt: 1, payload: { i } }));
    expect((await Promise.all(tries)).filter(Boolean)).toHaveLength(1);
    await a.ledger.complete('same');
    expect(await b.ledger.admit({ id: 'same', admittedAt: 2, payload: null })).toBe(false); // the guard outlives completion
    expect(await a.ledger.admit({ id: 'never-admitted-but-completed', admittedAt: 3, payload: null })).toBe(true);
  });

  it('hands pending work to another instance only once its owner is gone, oldest first, with progress', async () => {
    const prefix = uniquePrefix();
    const owner = await open(prefix);
    const heir = await open(prefix);
    for (const [i, id] of ['m1', 'm2', 'm3', 'm4'].entries()) {
      expect(await owner.ledger.admit({ id, admittedAt: 1_000 + (i === 3 ? 0 : i), payload: { text: id } })).toBe(true);
    }
    await owner.ledger.update('m2', { runId: 'run_1' });
    await owner.ledger.update('m2', { reply: 'the answer' }); // merged with the earlier progress
    await owner.ledger.complete('m3');
    expect(await heir.ledger.recoverable!()).toEqual([]); // the owner is alive and answering them
    // Listing only reads: every pending entry, whoever answers it, and claims nothing.
    expect((await heir.ledger.pending()).map((e) => e.id)).toEqual(['m1', 'm2', 'm4']);
    await owner.close();
    const claimed = await heir.ledger.recoverable!();
    expect(claimed.map((e) => e.id)).toEqual(['m1', 'm2', 'm4']); // arrival order, not admittedAt
    expect(claimed[0]).toEqual({ id: 'm1', admittedAt: 1_000, payload: { text: 'm1' } });
    expect(claimed[1]?.progress).toEqual({ runId: 'run_1', reply: 'the answer' });
    expect(await heir.ledger.recoverable!()).toEqual([]); // claimed once: now the heir's own work
    await heir.ledger.complete('m1');
    await heir.ledger.update('m1', { late: true }); // a completed entry takes no more progress
    const third = await open(prefix);
    await heir.close();
    expect((await third.ledger.recoverable!()).map((e) => e.id)).toEqual(['m2', 'm4']);
  });

  it('never hands one orphaned entry to two instances recovering at the same moment', async () => {
    const prefix = uniquePrefix();
    const connection = await RedisConnection.open({ url: redis.url, keyPrefix: prefix, logger: captureLogger().logger });
    toClose.push(connection);
    // A process that admitted 40 messages and died (it never had a heartbeat).
    const ghost = new RedisMessageLedger({ connection, instanceId: 'ghost-host:4242:dead', ttlMs: 60_000 });
    for (let i = 0; i < 40; i++) await ghost.admit({ id: `o${i}`, admittedAt: i, payload: { i } });
    const heirs = [await open(prefix), await open(prefix), await open(prefix)];
    const claims = await Promise.all(heirs.map((h) => h.ledger.recoverable!()));
    const ids = claims.flatMap((c) => c.map((e) => e.id));
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('resolves idle() once the admits asked for so far are written', async () => {
    const storage = await open(uniquePrefix());
    const settled: number[] = [];
    const admits = Array.from({ length: 50 }, (_, i) => storage.ledger.admit({ id: `i${i}`, admittedAt: i, payload: null }).then(() => settled.push(i)));
    await storage.ledger.idle();
    expect(settled).toHaveLength(50);
    await Promise.all(admits);
  });
});

describe('Redis open cards', () => {
  it('lists only the cards a gone instance left open (claimed), oldest first', async () => {
    const prefix = uniquePrefix();
    const writer = await open(prefix);
    const other = await open(prefix);
    const card = (id: string, openedAt: number) => ({ id, messageId: `m-${id}`, target: { conversationId: 'c' }, lastText: `t-${id}`, openedAt });
    await writer.cards.put(card('c2', 20));
    await writer.cards.put(card('c1', 10));
    await writer.cards.put({ ...card('c2', 20), lastText: 'updated' });
    await writer.cards.put(card('c3', 30));
    await writer.cards.remove('c3');
    expect(await other.cards.list()).toEqual([]); // still being written by a live instance
    expect((await writer.cards.list()).map((c) => c.id)).toEqual(['c1', 'c2']);
    await writer.close();
    expect(await other.cards.list()).toEqual([card('c1', 10), { ...card('c2', 20), lastText: 'updated' }]);
    const third = await open(prefix);
    expect(await third.cards.list()).toEqual([]); // the claim moved them to `other`, which lives
  });
});

describe('the storage check of the doctor and /healthz', () => {
  it('never shows a Redis password, and names what to check for Redis', async () => {
    const server = await startRedisServer({ password: 'Doctor-Pass-5t6y7u8i' });
    try {
      const { logger } = captureLogger();
      const ok = await checkStorageUrl(server.url, logger, { keyPrefix: uniquePrefix(), leaseMs: 1_000 });
      expect(ok).toEqual({ status: 'ok', detail: server.url.replace('Doctor-Pass-5t6y7u8i', '***') });
      const bad = await checkStorageUrl(server.url.replace('Doctor-Pass-5t6y7u8i', 'Wrong-Pass-0o9i8u7y'), logger);
      expect(bad.status).toBe('failing');
      expect(JSON.stringify(bad)).not.toMatch(/Doctor-Pass|Wrong-Pass/);
      expect(bad.fix?.en).toMatch(/Redis is running, that the address and password in SESSION_STORAGE/);
    } finally {
      await server.close();
    }
  });

  it('checks an SQLite file the running service holds, without being refused by its one-process lock', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'doctor-')), 'sessions.sqlite');
    const running = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });
    toClose.push(running);
    expect((await checkStorageUrl(`sqlite://${file}`, captureLogger().logger)).status).toBe('ok');
  });
});

describe('Redis unreachable', () => {
  it('refuses to start with a StorageError naming the address without its password', async () => {
    const server = await startRedisServer({ password: 'Redis-Pass-9x7w5v3u' });
    try {
      const wrong = server.url.replace('Redis-Pass-9x7w5v3u', 'Wrong-Pass-1a2b3c4d');
      const refused = await openStorage({ url: wrong, ledgerTtlMs: 1_000, logger: captureLogger().logger }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StorageError);
      expect(String(refused)).toMatch(/cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: WRONGPASS/);
      expect(String(refused)).not.toContain('Wrong-Pass');
      const logs = captureLogger();
      const ok = await openStorage({ url: server.url, keyPrefix: uniquePrefix(), ledgerTtlMs: 1_000, logger: logs.logger });
      await ok.close();
      expect(logs.lines.join('\n')).not.toContain('Redis-Pass');
      await server.stop();
      const down = await openStorage({ url: server.url, ledgerTtlMs: 1_000, logger: captureLogger().logger }).catch((e: unknown) => e);
      expect(String(down)).toMatch(/cannot connect to Redis at .*ECONNREFUSED/);
    } finally {
      await server.close();
    }
  });

  it('fails every operation at once with a StorageError while Redis is down, and works again when it returns', async () => {
    const server = await startRedisServer({ persistent: true });
    const logs = captureLogger();
    try {
      const storage = await openStorage({ url: server.url, keyPrefix: uniquePrefix(), leaseMs: 1_000, ledgerTtlMs: 60_000, logger: logs.logger });
      toClose.push(storage);
      await storage.sessions.set(key, record({ kept: true }), 60_000);
      expect(await storage.ledger.admit({ id: 'before', admittedAt: 1, payload: 'p' })).toBe(true);
      await server.kill();
      // Each fails at once: queued until Redis returns, they would never settle here.
      await expect(storage.sessions.get(key)).rejects.toBeInstanceOf(StorageError);
      await expect(storage.ledger.admit({ id: 'during', admittedAt: 2, payload: null })).rejects.toBeInstanceOf(StorageError);
      await expect(storage.cards.list()).rejects.toBeInstanceOf(StorageError);
      expect(await storage.ping()).toBe(false);
      await server.start();
      await waitUntil(() => storage.ping(), 8_000);
      expect((await storage.sessions.get(key))?.state).toEqual({ kept: true });
      expect(await storage.ledger.admit({ id: 'before', admittedAt: 3, payload: null })).toBe(false);
      const lines = logs.records().map((r) => r.message);
      expect(lines).toContain('redis connection lost; questions fail with 503 until it returns');
      expect(lines).toContain('redis connection restored');
    } finally {
      await server.close();
    }
  }, 20_000);
});

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
