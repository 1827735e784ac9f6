import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backends/select-backend.js';
import { loadConfig } from '../../src/config/config.js';
import { createDingTalkApi } from '../../src/dingtalk/dingtalk-http-client.js';
import { ConversationEngine } from '../../src/engine/conversation-engine.js';
import { directConversationKey, groupConversationKey, httpConversationKey } from '../../src/engine/conversation-key.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { sleep } from '../fakes/fake-http-server.js';
import { BACKEND_FIXTURES, type BackendFixture, type InstalledBackend } from '../helpers/backend-fixtures.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { STORAGE_FIXTURES, type StorageFixture } from '../helpers/storage-fixtures.js';

/**
 * The conversation semantics every backend must give, on every storage: continuity, isolation
 * of keys, idle expiry, persistence across a restart, reset, a failure or timeout that leaves
 * the conversation usable, and order within a conversation. Each backend runs against its own
 * wire fake over real sockets; the engine and storage are the real ones.
 */
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const alice = httpConversationKey('6f1c2b9e-8d4a-4c1e-9f3a-2b7d5e8c1a00');
const bob = httpConversationKey('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');
const dm = directConversationKey('cidDM1');
const groupMember = groupConversationKey('cidClass', 'stu1');

interface World {
  readonly engine: ConversationEngine;
  readonly model: InstalledBackend;
  /** Closes the engine's storage and backend and builds new ones on the same store (a restart). */
  restart(): Promise<World>;
}

async function startWorld(fixture: BackendFixture, storageFixture: StorageFixture, options: { ttlMs?: number } = {}): Promise<World> {
  const fake = await startFakeDingTalk();
  cleanups.push(() => fake.close());
  const model = fixture.install(fake);
  const storageUrl = await storageFixture.url();
  const config = loadConfig({
    ...model.env,
    STREAM_ENABLED: 'false',
    DING_APP_KEY: fake.tokens.appKey,
    DING_APP_SECRET: fake.tokens.appSecret,
    DINGTALK_API_BASE: fake.baseUrl,
    DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
    SESSION_STORAGE: storageUrl,
  });
  const build = async (): Promise<World> => {
    const logs = captureLogger();
    const storage: Storage = await openStorage({ url: storageUrl, ledgerTtlMs: 60_000, logger: logs.logger });
    const api = createDingTalkApi({ config, logger: logs.logger, redactor: logs.redactor });
    const backend = selectBackend({ config, dingtalk: api, logger: logs.logger });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      backend.close?.();
      api.close();
      await storage.close();
    };
    cleanups.push(close);
    const engine = new ConversationEngine({
      backend,
      sessions: storage.sessions,
      logger: logs.logger,
      pseudonymKey: storage.pseudonymKey,
      sessionTtlMs: options.ttlMs ?? 60_000,
      answerTimeoutMs: 1_500,
      queueLimit: 10,
      maxConcurrentRuns: 10,
    });
    return {
      engine,
      model,
      restart: async () => {
        await close();
        return build();
      },
    };
  };
  return build();
}

/** The earlier turns the model saw, read from the fakes' `答：q（之前N轮）` answers. */
function earlierTurns(answer: string): number {
  const m = /（之前(\d+)轮）$/.exec(answer);
  if (!m) throw new Error(`not a fake answer: ${answer}`);
  return Number(m[1]);
}

describe.each(STORAGE_FIXTURES)('conversation semantics on $name', (storage) => {
  describe.each(BACKEND_FIXTURES)('backend $name', (fixture) => {
    it('continuity: a follow-up sees the earlier turns, in order', async () => {
      const { engine, model } = await startWorld(fixture, storage);
      const answers = [];
      for (const q of ['光合作用是什么？', 'And respiration?', '第三个问题']) answers.push((await engine.ask({ key: alice, text: q })).answer);
      expect(answers).toEqual(['答：光合作用是什么？（之前0轮）', '答：And respiration?（之前1轮）', '答：第三个问题（之前2轮）']);
      expect(model.questionsReceived()).toEqual(['光合作用是什么？', 'And respiration?', '第三个问题']);
    });

    it('isolation: HTTP sessions, a DM and a group member never share context', async () => {
      const { engine } = await startWorld(fixture, storage);
      await engine.ask({ key: alice, text: 'a1' });
      await engine.ask({ key: alice, text: 'a2' });
      for (const key of [bob, dm, groupMember]) {
        expect(earlierTurns((await engine.ask({ key, text: `first of ${key}` })).answer)).toBe(0);
      }
      expect(earlierTurns((await engine.ask({ key: dm, text: 'dm again' })).answer)).toBe(1);
      expect(earlierTurns((await engine.ask({ key: alice, text: 'a3' })).answer)).toBe(2);
    });

    it('expiry: an idle conversation starts over', async () => {
      const { engine } = await startWorld(fixture, storage, { ttlMs: 300 });
      await engine.ask({ key: alice, text: 'before' });
      await sleep(450);
      expect(await engine.hasSession(alice)).toBe(false);
      const after = await engine.ask({ key: alice, text: 'after' });
      expect(after.newConversation).toBe(true);
      expect(earlierTurns(after.answer)).toBe(0);
    });

    it('persistence: the conversation continues after a restart', async () => {
      const first = await startWorld(fixture, storage);
      await first.engine.ask({ key: dm, text: 'before the restart' });
      const second = await first.restart();
      const after = await second.engine.ask({ key: dm, text: 'after the restart' });
      expect(after.newConversation).toBe(false);
      expect(earlierTurns(after.answer)).toBe(1);
    });

    it('reset: /new starts over, and other conversations keep theirs', async () => {
      const { engine } = await startWorld(fixture, storage);
      await engine.ask({ key: dm, text: 'one' });
      await engine.ask({ key: alice, text: 'other' });
      await engine.reset(dm);
      await engine.reset(dm); // a second reset is harmless
      expect(earlierTurns((await engine.ask({ key: dm, text: 'fresh' })).answer)).toBe(0);
      expect(earlierTurns((await engine.ask({ key: alice, text: 'other again' })).answer)).toBe(1);
    });

    it('a failed question leaves the conversation usable, with its context', async () => {
      const { engine, model } = await startWorld(fixture, storage);
      await engine.ask({ key: alice, text: 'good' });
      model.failNext();
      await expect(engine.ask({ key: alice, text: 'fails' })).rejects.toMatchObject({ name: 'AssistantError' });
      const next = await engine.ask({ key: alice, text: 'next' });
      expect(next.answer).toMatch(/^答：next/);
      // The failed question is not part of the conversation the model sees.
      expect(earlierTurns(next.answer)).toBe(fixture.name === 'dingtalk-assistant' ? 2 : 1);
    });

    it('a timed-out question leaves the conversation usable', async () => {
      const { engine, model } = await startWorld(fixture, storage);
      await engine.ask({ key: alice, text: 'good' });
      model.hangNext();
      await expect(engine.ask({ key: alice, text: 'slow' })).rejects.toMatchObject({ kind: 'timeout' });
      const next = await engine.ask({ key: alice, text: 'next' });
      expect(next.answer).toMatch(/^答：next/);
      if (model.keepsContextAfterTimeout) expect(earlierTurns(next.answer)).toBe(1);
    });

    it('order: questions of one conversation are answered one at a time, in arrival order', async () => {
      const { engine, model } = await startWorld(fixture, storage);
      model.slowDown(40);
      const texts = ['q1', 'q2', 'q3', 'q4'];
      const answers = await Promise.all(texts.map((text) => engine.ask({ key: groupMember, text })));
      expect(answers.map((a) => a.answer)).toEqual(texts.map((t, i) => `答：${t}（之前${i}轮）`));
      expect(model.questionsReceived()).toEqual(texts);
    });
  });
});
