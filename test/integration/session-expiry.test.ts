import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AssistantBackend, BackendState, ForgetOptions } from '../../src/backends/assistant-backend.js';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { directConversationKey } from '../../src/engine/conversation-key.js';
import { ExpiredSessions } from '../../src/engine/expired-sessions.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import type { SessionRecord } from '../../src/storage/session-store.js';
import { SqliteConnection } from '../../src/storage/sqlite/sqlite-connection.js';
import { sleep } from '../fakes/fake-http-server.js';
import { DINGTALK_ASSISTANT_FIXTURE } from '../helpers/backend-fixtures.js';
import { freshRedisStoreUrl } from '../helpers/redis-server.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';

/** Issue 13 items 15 (sweeps that finish) and 18 (vendor-side retention), on real SQLite files. */
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'expiry-')), 'sessions.sqlite');
const record = (threadId: string): SessionRecord => ({ backend: 'dingtalk-assistant', state: { threadId }, lastActiveAt: Date.now() });

async function open(url: string): Promise<Storage> {
  const storage = await openStorage({ url, ledgerTtlMs: 60_000, logger: captureLogger().logger });
  opened.push(storage);
  return storage;
}

async function sessionKeys(file: string): Promise<string[]> {
  const db = await SqliteConnection.open({ file, busyTimeoutMs: 2_000, readOnly: true });
  try {
    const rows = await db.all<{ key: string }>('list sessions', `SELECT key FROM sessions WHERE key LIKE 'sessions:dm:%'`);
    return rows.map((r) => r.key.slice('sessions:'.length)).sort();
  } finally {
    await db.close();
  }
}

/** Writes `n` sessions that expire at once and `live` that do not. */
async function seed(storage: Storage, n: number, live: number): Promise<void> {
  for (let i = 0; i < n; i++) await storage.sessions.set(directConversationKey(`old${i}`), record(`thread_old_${i}`), 1);
  for (let i = 0; i < live; i++) await storage.sessions.set(directConversationKey(`live${i}`), record(`thread_live_${i}`), 60 * 60_000);
  await sleep(10);
}

describe('item 15: the expired-session sweep', () => {
  it('deletes every expired row of a real SQLite file in one pass at start, more rows than a page (500)', async () => {
    const file = tempFile();
    const h = await startStreamHarness({
      env: { SESSION_STORAGE: `sqlite://${file}`, STREAM_ENABLED: 'false' },
      beforeBoot: async () => {
        const storage = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });
        await seed(storage, 1_234, 7);
        await storage.close();
      },
    });
    opened.push(h);
    // The purge ran once as the app started (before anything was taken in), and found them all.
    expect(await sessionKeys(file)).toEqual(Array.from({ length: 7 }, (_, i) => directConversationKey(`live${i}`)).sort());
    const done = h.logs.records().find((r) => r.message === 'retention purge done');
    expect(done).toMatchObject({ sessions: 1_234 });
  });

  it('takeExpired hands back each expired session with its record, in batches, never a live one (SQLite, memory, Redis)', async () => {
    for (const url of [`sqlite://${tempFile()}`, 'memory://', await freshRedisStoreUrl()]) {
      const storage = await open(url);
      await seed(storage, 1_234, 3);
      const expiredAgain = directConversationKey('old0');
      await storage.sessions.set(expiredAgain, record('thread_old_0_again'), 60 * 60_000); // written again: live
      const batches: number[] = [];
      const threads: string[] = [];
      for (let round = 0; round < 10; round++) {
        const taken = await storage.sessions.takeExpired(Date.now(), 500);
        batches.push(taken.length);
        threads.push(...taken.map((t) => String(t.record.state.threadId)));
        if (taken.length < 500) break;
      }
      expect(batches).toEqual([500, 500, 233]);
      expect(new Set(threads).size).toBe(1_233);
      expect(threads).not.toContain('thread_old_0_again');
      expect(await storage.sessions.get(expiredAgain)).toMatchObject({ state: { threadId: 'thread_old_0_again' } });
      expect(await storage.sessions.get(directConversationKey('live2'))).toBeDefined();
      expect(await storage.sessions.takeExpired(Date.now(), 500)).toEqual([]);
    }
  });
});

/** A backend that records what it is asked to forget; `hang` makes each forget wait for its deadline. */
function forgettingBackend(hang = false) {
  const forgotten: string[] = [];
  let attempts = 0;
  const backend: AssistantBackend = {
    name: 'dingtalk-assistant',
    ask: () => Promise.reject(new Error('not used')),
    async forget(state: BackendState, options: ForgetOptions) {
      attempts++;
      if (hang) {
        await sleep(Math.max(0, options.deadline - Date.now()));
        throw new Error('timed out');
      }
      forgotten.push(String(state.threadId));
    },
  };
  return { backend, forgotten, attempts: () => attempts };
}

describe('item 18: expired conversations are deleted upstream, bounded', () => {
  it('forgets at most maxForgets per sweep, removes the rest here anyway, and says so', async () => {
    const storage = await open(`sqlite://${tempFile()}`);
    await seed(storage, 30, 2);
    const logs = captureLogger();
    const { backend, forgotten } = forgettingBackend();
    const expiry = new ExpiredSessions({ sessions: storage.sessions, backend, pseudonymKey: storage.pseudonymKey, logger: logs.logger, limits: { batch: 7, maxForgets: 10 } });
    expect(await expiry.sweep()).toEqual({ removed: 30, forgetting: 10, overBound: 20 });
    await expiry.settled();
    expect(forgotten).toHaveLength(10);
    expect(forgotten.every((t) => t.startsWith('thread_old_'))).toBe(true);
    expect(logs.records().find((r) => String(r.message).startsWith('more expired conversations than one sweep'))).toMatchObject({ overBound: 20 });
    expect(await storage.sessions.takeExpired(Date.now(), 100)).toEqual([]);
  });

  it('gives up on upstream deletes past the sweep\'s time budget', async () => {
    const storage = await open(`sqlite://${tempFile()}`);
    await seed(storage, 10, 0);
    const logs = captureLogger();
    const { backend, attempts } = forgettingBackend(true);
    const expiry = new ExpiredSessions({
      sessions: storage.sessions,
      backend,
      pseudonymKey: storage.pseudonymKey,
      logger: logs.logger,
      limits: { concurrency: 2, callTimeoutMs: 100, budgetMs: 300 },
    });
    expect((await expiry.sweep()).removed).toBe(10);
    await expiry.settled();
    // Each delete hangs until its 100 ms deadline: two at a time for 300 ms is never all ten.
    expect(attempts()).toBeLessThan(10);
    const line = logs.records().find((r) => r.message === 'some expired conversations could not be deleted upstream');
    expect(line).toMatchObject({ deleted: 0 });
    expect(Number(line!.skipped)).toBe(10 - attempts());
  });

  describe('with the DingTalk assistant backend (thread delete)', () => {
    let h: StreamHarness;
    const ask = async (conversationId: string, text: string) => {
      const before = h.robot.repliesTo(conversationId).length;
      h.gateway.push(h.robot.robotMessage({ conversationId, staffId: conversationId, text }));
      await waitFor(() => h.robot.repliesTo(conversationId).length > before, 10_000, `the reply to ${text}`);
      return h.robot.repliesTo(conversationId).at(-1)!.text;
    };

    it('/new deletes the thread at DingTalk', async () => {
      h = await startStreamHarness({ model: DINGTALK_ASSISTANT_FIXTURE });
      opened.push(h);
      await ask('cidNew', 'first question');
      const [threadId] = [...h.fake.assistant.threads.keys()];
      expect(await ask('cidNew', '/new')).toBe(CHAT_TEXTS.newConversation);
      await waitFor(() => h.fake.assistant.deletedThreads.has(threadId!), 5_000, 'the thread deleted upstream');
      expect(h.fake.assistant.threads.has(threadId!)).toBe(false);
    });

    it('the retention purge deletes the threads of expired conversations at DingTalk', async () => {
      h = await startStreamHarness({ model: DINGTALK_ASSISTANT_FIXTURE });
      opened.push(h);
      for (const c of ['cidE1', 'cidE2', 'cidE3']) await ask(c, `question in ${c}`);
      const threads = [...h.fake.assistant.threads.keys()];
      expect(threads).toHaveLength(3);
      // Their idle time runs out (SESSION_TTL_MINUTES is at least a minute, so it is shortened here).
      for (const c of ['cidE1', 'cidE2', 'cidE3']) {
        const key = directConversationKey(c);
        await h.storage.sessions.set(key, (await h.storage.sessions.get(key))!, 1);
      }
      await sleep(10);
      // The readiness check's probe thread (created and deleted at start-up) is not ours.
      const deletedBefore = new Set(h.fake.assistant.deletedThreads.keys());
      const callsBefore = h.fake.assistant.calls.deleteThread;
      await h.app.purge.run();
      await h.engine.expirySettled();
      expect([...h.fake.assistant.deletedThreads.keys()].filter((t) => !deletedBefore.has(t)).sort()).toEqual(threads.sort());
      expect(h.fake.assistant.calls.deleteThread - callsBefore).toBe(3);
      for (const c of ['cidE1', 'cidE2', 'cidE3']) expect(await h.storage.sessions.get(directConversationKey(c))).toBeUndefined();
      // A new question starts a new thread.
      await ask('cidE1', 'after expiry');
      expect(h.fake.assistant.threads.size).toBe(1);
    });

    it('a conversation that expired and is written to again before the sweep still has its old thread deleted', async () => {
      h = await startStreamHarness({ model: DINGTALK_ASSISTANT_FIXTURE });
      opened.push(h);
      await ask('cidBack', 'before the break');
      const [oldThread] = [...h.fake.assistant.threads.keys()];
      const key = directConversationKey('cidBack');
      await h.storage.sessions.set(key, (await h.storage.sessions.get(key))!, 1);
      await sleep(10);
      // The student comes back after the idle time, before the hourly sweep: a new conversation.
      expect(await ask('cidBack', 'after the break')).toContain('（之前0轮）');
      expect(h.fake.assistant.threads.has(oldThread!)).toBe(true);
      await h.app.purge.run();
      await h.engine.expirySettled();
      expect(h.fake.assistant.deletedThreads.has(oldThread!)).toBe(true);
      expect(h.fake.assistant.threads.size).toBe(1); // the new conversation's thread stays
    });
  });
});
