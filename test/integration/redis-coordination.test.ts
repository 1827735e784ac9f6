import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { httpConversationKey } from '../../src/engine/conversation-key.js';
import { ConversationEngine } from '../../src/engine/conversation-engine.js';
import { AssistantError } from '../../src/errors.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { StreamLeadership } from '../../src/transports/dingtalk-stream/stream-leadership.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSharedRedis } from '../helpers/shared-redis.js';
import { ScriptedBackend, sleep } from '../helpers/scripted-backend.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * What keeps instances on one Redis out of each other's way: conversation locks (a turn waits
 * for another instance's turn of the same conversation, a dead holder's lock expires) and the
 * Stream lease (exactly one holder; a lost lease closes the Stream).
 */
const redis = useSharedRedis();
const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.allSettled(toClose.splice(0).reverse().map((c) => c.close()));
});

async function open(prefix: string, leaseMs = 600): Promise<Storage> {
  const storage = await openStorage({ url: redis.url, keyPrefix: prefix, leaseMs, ledgerTtlMs: 60_000, logger: captureLogger().logger });
  toClose.push(storage);
  return storage;
}

function raw(): Redis {
  const client = new Redis(redis.url);
  toClose.push({ close: async () => void client.disconnect() });
  return client;
}

const key = httpConversationKey('0d6c3a52-3f0e-4b9e-8a44-2f7f4e1c9b10');

describe('conversation locks', () => {
  it('make a second instance wait for the first one’s turn, then let it in (not refused)', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const events: string[] = [];
    const heldByA = await a.coordination!.locks.acquire(key, Date.now() + 5_000);
    expect(heldByA).toBeDefined();
    const waiting = b.coordination!.locks.acquire(key, Date.now() + 5_000).then((held) => {
      events.push('b acquired');
      return held;
    });
    await sleep(150);
    events.push('a releases');
    await heldByA!.release();
    const heldByB = await waiting;
    expect(heldByB).toBeDefined();
    expect(events).toEqual(['a releases', 'b acquired']);
    // Other conversations never wait for this one.
    expect(await a.coordination!.locks.acquire(httpConversationKey('11111111-1111-4111-8111-111111111111'), Date.now())).toBeDefined();
    await heldByB!.release();
  });

  it('are renewed while a long turn runs, and give up at the waiter’s deadline', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix, 300), await open(prefix, 300)];
    const held = await a.coordination!.locks.acquire(key, Date.now() + 1_000);
    // Held for ~3 leases: without renewal b would get it after 300 ms.
    expect(await b.coordination!.locks.acquire(key, Date.now() + 900)).toBeUndefined();
    await held!.release();
    expect(await b.coordination!.locks.acquire(key, Date.now() + 900)).toBeDefined();
  });

  it('of a dead instance expire with its lease, so the conversation is never blocked for good', async () => {
    const prefix = uniquePrefix();
    const b = await open(prefix, 300);
    // A process that took the lock and was killed: nobody renews it.
    await raw().set(`${prefix}lock:${key}`, 'token-of-a-dead-process', 'PX', 300);
    const waitedFrom = Date.now();
    const held = await b.coordination!.locks.acquire(key, Date.now() + 3_000);
    expect(held).toBeDefined();
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(250);
  });

  it('keep two engines on one Redis from running one conversation at once (the same upstream thread)', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const upstream = new ScriptedBackend();
    upstream.delayMs = 300;
    const engine = (s: Storage) => new ConversationEngine(engineOptions(s, upstream));
    const [one, two] = [engine(a), engine(b)];
    await one.ask({ key, text: 'first' });
    const answers = await Promise.all([one.ask({ key, text: 'from instance one' }), two.ask({ key, text: 'from instance two' })]);
    // Each saw the other's question in the history: one ran after the other.
    expect(answers.map((x) => x.answer.split(':')[0]).sort()).toEqual(['answer 2', 'answer 3']);
    expect(upstream.maxConcurrent).toBe(1); // the upstream thread never saw two runs at once
    expect(upstream.threads.size).toBe(1); // one conversation, shared through Redis
    expect([...upstream.threads.values()][0]).toHaveLength(3);
    // The control: without locks the two instances collide on the thread's active run.
    const unlocked = (s: Storage) => new ConversationEngine({ ...engineOptions(s, upstream), locks: undefined });
    const results = await Promise.allSettled([unlocked(a).ask({ key, text: 'x' }), unlocked(b).ask({ key, text: 'y' })]);
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
  });

  it('read the session in the same round trip that takes the lock, and still see another instance’s last write', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const upstream = new ScriptedBackend();
    const [one, two] = [new ConversationEngine(engineOptions(a, upstream)), new ConversationEngine(engineOptions(b, upstream))];
    await one.ask({ key, text: 'first' });
    // Every command the clients send (not those a Lua script runs), as Redis sees them.
    const monitor = await raw().monitor();
    const sent: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((x) => x.includes(prefix))) sent.push(String(args[0]).toLowerCase());
    });
    toClose.push({ close: async () => void monitor.disconnect() });
    expect((await two.ask({ key, text: 'second, elsewhere' })).answer).toBe('answer 2: second, elsewhere');
    expect((await one.ask({ key, text: 'third, back here' })).answer).toBe('answer 3: third, back here');
    await waitFor(() => sent.filter((c) => c === 'set').length >= 2, 2_000, 'the two saves seen');
    expect(sent.filter((c) => c === 'get')).toEqual([]); // the session came with each lock
    expect(upstream.threads.size).toBe(1);
  });

  it('turn a wait past the question’s deadline into a timeout (HTTP 504), not a busy refusal', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const upstream = new ScriptedBackend();
    const held = await a.coordination!.locks.acquire(key, Date.now() + 1_000);
    const engine = new ConversationEngine(engineOptions(b, upstream));
    const failure = await engine.ask({ key, text: 'too late', deadline: Date.now() + 400 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AssistantError);
    expect((failure as AssistantError).kind).toBe('timeout');
    expect(upstream.count('ask')).toBe(0);
    await held!.release();
    expect((await engine.ask({ key, text: 'now' })).answer).toBe('answer 1: now');
  });
});

describe('the Stream lease', () => {
  function leadership(storage: Storage, log: string[], name: string): StreamLeadership {
    const l = new StreamLeadership({
      lease: storage.coordination!.streamLease,
      logger: captureLogger().logger,
      onElected: async () => void log.push(`${name} elected`),
      onDeposed: async () => void log.push(`${name} deposed`),
    });
    toClose.push({ close: () => l.stop() });
    return l;
  }

  it('is held by exactly one instance; a graceful stop hands it over at once', async () => {
    const prefix = uniquePrefix();
    const log: string[] = [];
    const [a, b] = [await open(prefix, 600), await open(prefix, 600)];
    const first = leadership(a, log, 'a');
    const second = leadership(b, log, 'b');
    await first.start();
    await second.start();
    expect([first.isLeader, second.isLeader]).toEqual([true, false]);
    await sleep(700); // renewals keep it with a past the lease's lifetime
    expect([first.isLeader, second.isLeader]).toEqual([true, false]);
    await first.stop();
    await waitFor(() => second.isLeader, 2_000, 'the standby to take over');
    expect(log).toEqual(['a elected', 'a deposed', 'b elected']);
  });

  it('closes the Stream when the lease turns out to be another instance’s', async () => {
    const prefix = uniquePrefix();
    const log: string[] = [];
    const a = await open(prefix, 600);
    const first = leadership(a, log, 'a');
    await first.start();
    expect(first.isLeader).toBe(true);
    // Redis lost the lease (e.g. restarted without persistence) and another instance took it.
    await raw().set(`${prefix}lease:stream`, 'another-instance', 'PX', 60_000);
    await waitFor(() => !first.isLeader, 2_000, 'a to give the Stream up');
    expect(log).toEqual(['a elected', 'a deposed']);
  });
});

function engineOptions(storage: Storage, upstream: ScriptedBackend) {
  return {
    backend: upstream.backend(captureLogger().logger),
    sessions: storage.sessions,
    logger: captureLogger().logger,
    pseudonymKey: storage.pseudonymKey,
    locks: storage.coordination?.locks,
    sessionTtlMs: 60_000,
    answerTimeoutMs: 5_000,
    queueLimit: 5,
    maxConcurrentRuns: 5,
  };
}
