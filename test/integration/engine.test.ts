import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AssistantBackend } from '../../src/backends/assistant-backend.js';
import { ConversationEngine, type EngineOptions } from '../../src/engine/conversation-engine.js';
import type { AskRequest } from '../../src/engine/types.js';
import { directConversationKey, groupConversationKey, httpConversationKey } from '../../src/engine/conversation-key.js';
import { AssistantError, BusyError } from '../../src/errors.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { ScriptedBackend, sleep } from '../helpers/scripted-backend.js';

const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function tempDbUrl(): string {
  return `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'engine-')), 'sessions.sqlite')}`;
}

type SetupOptions = Partial<Omit<EngineOptions, 'backend'>> & { backend?: ScriptedBackend | AssistantBackend };

/**
 * The engine over the DingTalk assistant backend on scripted threads. `ask` also reports the
 * thread (and answered run) the session now holds, read from storage, for thread assertions.
 */
async function setup(overrides: SetupOptions = {}, url = tempDbUrl()) {
  const logs = captureLogger();
  const storage = await openStorage({ url, ledgerTtlMs: 60_000, logger: logs.logger });
  opened.push(storage);
  const given = overrides.backend;
  const backend = given instanceof ScriptedBackend || given === undefined ? (given ?? new ScriptedBackend()) : undefined;
  const real = new ConversationEngine({
    sessions: storage.sessions,
    logger: logs.logger,
    sessionTtlMs: 60_000,
    answerTimeoutMs: 2_000,
    queueLimit: 5,
    maxConcurrentRuns: 10,
    pseudonymKey: storage.pseudonymKey,
    ...overrides,
    backend: backend ? backend.backend(logs.logger) : (given as AssistantBackend),
  });
  const engine = {
    ask: async (request: AskRequest) => {
      const result = await real.ask(request);
      const state = (await storage.sessions.get(request.key))?.state as { threadId?: string; answeredRunId?: string } | undefined;
      return { ...result, threadId: state?.threadId, runId: state?.answeredRunId };
    },
    reset: (key: AskRequest['key']) => real.reset(key),
    hasSession: (key: AskRequest['key']) => real.hasSession(key),
    real,
  };
  return { engine, backend: backend!, storage, logs, url };
}

const alice = httpConversationKey('6f1c2b9e-8d4a-4c1e-9f3a-2b7d5e8c1a00');
const bob = httpConversationKey('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d');

describe('ConversationEngine', () => {
  it('continues one thread within a conversation and isolates different conversations', async () => {
    const { engine, backend } = await setup();
    const a1 = await engine.ask({ key: alice, text: 'hello' });
    const a2 = await engine.ask({ key: alice, text: 'again' });
    const b1 = await engine.ask({ key: bob, text: 'hi' });
    expect(a1.newConversation).toBe(true);
    expect(a2.newConversation).toBe(false);
    expect(a2.threadId).toBe(a1.threadId);
    expect(b1.threadId).not.toBe(a1.threadId);
    expect(backend.threads.get(a1.threadId!)).toEqual(['hello', 'again']);
    expect(backend.threads.get(b1.threadId!)).toEqual(['hi']);
  });

  it('keeps DM, member-in-group and whole-group conversations apart', async () => {
    const { engine } = await setup();
    const dm = await engine.ask({ key: directConversationKey('cid1'), text: 'q' });
    const member = await engine.ask({ key: groupConversationKey('cid2', 'staff1'), text: 'q' });
    const group = await engine.ask({ key: groupConversationKey('cid2'), text: 'q' });
    expect(new Set([dm.threadId, member.threadId, group.threadId]).size).toBe(3);
  });

  it('starts a new thread after the idle expiry', async () => {
    const { engine } = await setup({ sessionTtlMs: 150 });
    const first = await engine.ask({ key: alice, text: 'one' });
    await sleep(300);
    expect(await engine.hasSession(alice)).toBe(false);
    const second = await engine.ask({ key: alice, text: 'two' });
    expect(second.newConversation).toBe(true);
    expect(second.threadId).not.toBe(first.threadId);
  });

  it('refreshes the idle clock on every question', async () => {
    const { engine } = await setup({ sessionTtlMs: 400 });
    const first = await engine.ask({ key: alice, text: 'one' });
    for (let i = 0; i < 3; i++) {
      await sleep(200);
      const next = await engine.ask({ key: alice, text: `more ${i}` });
      expect(next.threadId).toBe(first.threadId);
    }
  });

  it('keeps sessions across a restart (SQLite closed and reopened)', async () => {
    const backend = new ScriptedBackend();
    const first = await setup({ backend });
    const a1 = await first.engine.ask({ key: alice, text: 'before restart' });
    await first.storage.close();
    opened.splice(opened.indexOf(first.storage), 1);

    const second = await setup({ backend }, first.url);
    expect(await second.engine.hasSession(alice)).toBe(true);
    const a2 = await second.engine.ask({ key: alice, text: 'after restart' });
    expect(a2.threadId).toBe(a1.threadId);
    expect(a2.newConversation).toBe(false);
  });

  it('expiry holds across a restart', async () => {
    const backend = new ScriptedBackend();
    const first = await setup({ backend, sessionTtlMs: 200 });
    await first.engine.ask({ key: alice, text: 'q' });
    await first.storage.close();
    opened.splice(opened.indexOf(first.storage), 1);
    await sleep(300);
    const second = await setup({ backend, sessionTtlMs: 200 }, first.url);
    expect(await second.engine.hasSession(alice)).toBe(false);
  });

  it('serialises concurrent questions of one conversation in arrival order', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 30;
    const { engine } = await setup({ backend });
    const texts = ['q1', 'q2', 'q3', 'q4', 'q5'];
    const results = await Promise.all(texts.map((text) => engine.ask({ key: alice, text })));
    expect(backend.threads.get(results[0]!.threadId!)).toEqual(texts);
    expect(results.map((r) => r.answer)).toEqual(texts.map((t, i) => `answer ${i + 1}: ${t}`));
    expect(backend.count('createThread')).toBe(1);
    expect(backend.maxConcurrent).toBe(1);
  });

  it('runs different conversations in parallel', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 200;
    const { engine } = await setup({ backend });
    const keys = Array.from({ length: 8 }, (_, i) => directConversationKey(`c${i}`));
    await Promise.all(keys.map((key) => engine.ask({ key, text: 'q' })));
    expect(backend.maxConcurrent).toBe(8);
  });

  it('caps runs across conversations at maxConcurrentRuns', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 50;
    const { engine } = await setup({ backend, maxConcurrentRuns: 3 });
    const keys = Array.from({ length: 9 }, (_, i) => directConversationKey(`c${i}`));
    await Promise.all(keys.map((key) => engine.ask({ key, text: 'q' })));
    expect(backend.maxConcurrent).toBe(3);
  });

  it('refuses with BusyError when a conversation queue is full', async () => {
    const backend = new ScriptedBackend();
    backend.delayMs = 100;
    const { engine } = await setup({ backend, queueLimit: 2 });
    const results = await Promise.allSettled([1, 2, 3].map((i) => engine.ask({ key: alice, text: `q${i}` })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(BusyError);
  });

  it('replaces a thread DingTalk no longer knows and still answers', async () => {
    const { engine, backend } = await setup();
    const first = await engine.ask({ key: alice, text: 'one' });
    backend.threads.delete(first.threadId!);
    const second = await engine.ask({ key: alice, text: 'two' });
    expect(second.threadId).not.toBe(first.threadId);
    expect(second.answer).toBe('answer 1: two');
    const third = await engine.ask({ key: alice, text: 'three' });
    expect(third.threadId).toBe(second.threadId);
  });

  it('passes a failed run on to the caller and keeps the session usable', async () => {
    const { engine, backend } = await setup();
    const first = await engine.ask({ key: alice, text: 'one' });
    backend.failures.push(new AssistantError('failed', 'run failed: model overloaded'));
    await expect(engine.ask({ key: alice, text: 'two' })).rejects.toMatchObject({ kind: 'failed' });
    const third = await engine.ask({ key: alice, text: 'three' });
    expect(third.threadId).toBe(first.threadId);
  });

  it('after a timeout, the next question settles the stale run before asking', async () => {
    const { engine, backend } = await setup({ answerTimeoutMs: 300 });
    const first = await engine.ask({ key: alice, text: 'one' });
    backend.hangNext = 1;
    await expect(engine.ask({ key: alice, text: 'slow' })).rejects.toMatchObject({ kind: 'timeout' });
    backend.finishAll(); // DingTalk finishes the run later
    const next = await engine.ask({ key: alice, text: 'next' });
    expect(backend.count('resume')).toBe(1);
    expect(next.threadId).toBe(first.threadId);
  });

  it('abandons a thread whose stale run never ends, instead of failing every later question', async () => {
    const { engine, backend } = await setup({ answerTimeoutMs: 300 });
    const first = await engine.ask({ key: alice, text: 'one' });
    backend.hangNext = 1;
    await expect(engine.ask({ key: alice, text: 'slow' })).rejects.toMatchObject({ kind: 'timeout' });
    const next = await engine.ask({ key: alice, text: 'next' }); // run still active upstream
    expect(next.threadId).not.toBe(first.threadId);
    expect(next.answer).toBe('answer 1: next');
  });

  it('asked again after a crash with the same requestId, reads the run already started instead of asking twice', async () => {
    const { engine, backend } = await setup({ answerTimeoutMs: 300 });
    await engine.ask({ key: alice, text: 'one', requestId: 'msg-1' });
    backend.hangNext = 1; // the process "dies" while the run is in flight
    await expect(engine.ask({ key: alice, text: 'two', requestId: 'msg-2' })).rejects.toMatchObject({ kind: 'timeout' });
    backend.finishAll();
    const again = await engine.ask({ key: alice, text: 'two', requestId: 'msg-2' });
    expect(again.answer).toMatch(/^\(answer of thread_1\/run_2\)$/);
    expect(backend.threads.get('thread_1')).toEqual(['one', 'two']);
    expect(backend.count('ask')).toBe(2);
  });

  it('after a crash between adding the message and starting the run, starts the run without re-adding', async () => {
    const { engine, backend } = await setup();
    backend.crashAfterMessageNext = 1;
    await expect(engine.ask({ key: alice, text: 'one', requestId: 'msg-1' })).rejects.toMatchObject({ kind: 'cancelled' });
    const again = await engine.ask({ key: alice, text: 'one', requestId: 'msg-1' });
    expect(again.answer).toBe('answer 1: one');
    expect(backend.threads.get(again.threadId!)).toEqual(['one']);
    expect(backend.count('ask-without-message')).toBe(1);
    // a different question afterwards is asked normally
    const next = await engine.ask({ key: alice, text: 'two', requestId: 'msg-2' });
    expect(backend.threads.get(next.threadId!)).toEqual(['one', 'two']);
  });

  it('asked again after the answer but before it reached the user, reads the answered run instead of asking twice', async () => {
    const { engine, backend } = await setup();
    const first = await engine.ask({ key: alice, text: 'one', requestId: 'msg-1' });
    const again = await engine.ask({ key: alice, text: 'one', requestId: 'msg-1' }); // a crash before the reply
    expect(again.answer).toBe(`(answer of ${first.runId})`);
    expect(backend.threads.get(first.threadId!)).toEqual(['one']);
    expect(backend.count('ask')).toBe(1);
    expect(backend.count('resume')).toBe(1);
    const next = await engine.ask({ key: alice, text: 'two', requestId: 'msg-2' });
    expect(next.answer).toBe('answer 2: two');
  });

  it('after a crash while the text was being added, asks the backend to check upstream before adding it', async () => {
    const { engine, backend } = await setup();
    await engine.ask({ key: alice, text: 'one', requestId: 'msg-1' });
    backend.failures.push(new AssistantError('cancelled', 'process stopped while adding the message'));
    await expect(engine.ask({ key: alice, text: 'two', requestId: 'msg-2' })).rejects.toMatchObject({ kind: 'cancelled' });
    await engine.ask({ key: alice, text: 'two', requestId: 'msg-2' });
    expect(backend.calls.filter((c) => c.op === 'ask').map((c) => c.maybeAdded)).toEqual([undefined, undefined, true]);
    // a different question is asked normally
    await engine.ask({ key: alice, text: 'three', requestId: 'msg-3' });
    expect(backend.calls.at(-1)).toMatchObject({ op: 'ask', maybeAdded: undefined });
  });

  it('reset starts a new thread on the next question', async () => {
    const { engine } = await setup();
    const first = await engine.ask({ key: alice, text: 'one' });
    await engine.reset(alice);
    const second = await engine.ask({ key: alice, text: 'two' });
    expect(second.threadId).not.toBe(first.threadId);
  });

  it('logs each answer with the conversation key, backend and duration, and the thread and run', async () => {
    const { engine, logs } = await setup();
    const result = await engine.ask({ key: alice, text: 'q', logContext: { sessionId: 'abc' } });
    const line = logs.records().find((r) => r.message === 'answered');
    expect(line).toMatchObject({ conversationKey: alice, backend: 'dingtalk-assistant', sessionId: 'abc', newConversation: true });
    expect(typeof line?.durationMs).toBe('number');
    const thread = logs.records().find((r) => r.message === 'thread answered');
    expect(thread).toMatchObject({ conversationKey: alice, threadId: result.threadId, sessionId: 'abc' });
  });
});

/** A backend with local history, to check what the engine does with any backend's state. */
class HistoryBackend implements AssistantBackend {
  readonly name = 'history';
  readonly inputs: Array<{ state: unknown; user: string; text: string }> = [];
  failNext: AssistantError | undefined;
  async ask(input: Parameters<AssistantBackend['ask']>[0]) {
    this.inputs.push({ state: input.state, user: input.user, text: input.text });
    const turns = ((input.state?.turns as string[] | undefined) ?? []).slice();
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    turns.push(input.text);
    return { answer: `#${turns.length} ${input.text}`, state: { turns } };
  }
}

describe('ConversationEngine with any backend', () => {
  it('hands the backend its own state back, and a stable pseudonym that is not the key', async () => {
    const backend = new HistoryBackend();
    const { engine } = await setup({ backend });
    await engine.ask({ key: alice, text: 'one' });
    const second = await engine.ask({ key: alice, text: 'two' });
    expect(second.answer).toBe('#2 two');
    expect(backend.inputs[0]!.state).toBeUndefined();
    expect(backend.inputs[1]!.state).toEqual({ turns: ['one'] });
    expect(backend.inputs[0]!.user).toMatch(/^u_[0-9a-f]{32}$/);
    expect(backend.inputs[1]!.user).toBe(backend.inputs[0]!.user);
    expect(backend.inputs[0]!.user).not.toContain('6f1c2b9e');
    await engine.ask({ key: bob, text: 'hi' });
    expect(backend.inputs[2]!.user).not.toBe(backend.inputs[0]!.user);
  });

  it('a failure without a state to keep leaves the conversation exactly as it was', async () => {
    const backend = new HistoryBackend();
    const { engine, storage } = await setup({ backend });
    await engine.ask({ key: alice, text: 'one' });
    backend.failNext = new AssistantError('blocked', 'moderation');
    await expect(engine.ask({ key: alice, text: 'bad' })).rejects.toMatchObject({ kind: 'blocked' });
    expect((await storage.sessions.get(alice))?.state).toEqual({ turns: ['one'] });
    expect((await engine.ask({ key: alice, text: 'two' })).answer).toBe('#2 two');
  });

  it('discards state another backend wrote (the school switched backends)', async () => {
    const backend = new HistoryBackend();
    const { engine, storage } = await setup({ backend });
    await storage.sessions.set(alice, { backend: 'dingtalk-assistant', state: { threadId: 't1' }, lastActiveAt: Date.now() }, 60_000);
    const result = await engine.ask({ key: alice, text: 'one' });
    expect(backend.inputs[0]!.state).toBeUndefined();
    expect(result.newConversation).toBe(true);
    expect(await storage.sessions.get(alice)).toMatchObject({ backend: 'history', state: { turns: ['one'] } });
  });

  it('runs a whole turn alone: work queued behind it starts only when it ends', async () => {
    const { engine } = await setup({ backend: new HistoryBackend() });
    const events: string[] = [];
    const first = engine.real.inConversation(alice, async (turn) => {
      events.push('first start');
      await turn.ask({ text: 'q' });
      await sleep(50);
      events.push('first end');
    });
    const second = engine.real.inConversation(alice, async () => {
      events.push('second');
    });
    await Promise.all([first, second]);
    expect(events).toEqual(['first start', 'first end', 'second']);
  });

  it('refuses to use a turn after it ended', async () => {
    const { engine } = await setup({ backend: new HistoryBackend() });
    let kept: Parameters<Parameters<typeof engine.real.inConversation>[1]>[0] | undefined;
    await engine.real.inConversation(alice, async (turn) => {
      kept = turn;
    });
    await expect(kept!.ask({ text: 'late' })).rejects.toThrow(/ended/);
  });
});
