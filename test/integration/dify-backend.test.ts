import { afterEach, describe, expect, it } from 'vitest';
import type { AskInput, AssistantBackend, BackendAnswer, BackendState } from '../../src/backends/assistant-backend.js';
import { createDifyBackend, type DifyBackendOptions } from '../../src/backends/dify/dify-backend.js';
import { AssistantError } from '../../src/errors.js';
import { FakeDifyApi, difyErrors } from '../fakes/fake-dify-api.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { captureLogger, type CapturedLogs } from '../helpers/capture-logs.js';

const KEY = 'app-test-0123456789abcdef';
const USER = 'u-hmac-1';

interface Harness {
  readonly server: FakeHttpServer;
  readonly fake: FakeDifyApi;
  readonly backend: AssistantBackend;
  readonly logs: CapturedLogs;
}

const open: Harness[] = [];
const allLines: string[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) {
    allLines.push(...h.logs.lines);
    h.backend.close?.();
    await h.server.close();
  }
  for (const line of allLines.splice(0)) expect(line).not.toContain(KEY);
});

async function setup(options: Partial<DifyBackendOptions> = {}): Promise<Harness> {
  const server = new FakeHttpServer();
  await server.listen();
  const fake = new FakeDifyApi(server, { basePath: '/v1', apiKey: KEY });
  const logs = captureLogger();
  const backend = createDifyBackend({
    baseUrl: `${server.baseUrl}/v1`,
    apiKey: KEY,
    maxSockets: 4,
    logger: logs.logger,
    timeouts: { firstByteMs: 1_000, idleMs: 500 },
    ...options,
  });
  const h = { server, fake, backend, logs };
  open.push(h);
  return h;
}

interface Outcome {
  readonly answer?: BackendAnswer;
  readonly error?: AssistantError;
  readonly texts: string[];
  readonly checkpoints: BackendState[];
  /** onText and onCheckpoint calls in the order they happened. */
  readonly order: string[];
  readonly ms: number;
}

type AskExtra = Partial<AskInput> & { deadlineMs?: number };

async function ask(h: Harness, text: string, extra: AskExtra = {}): Promise<Outcome> {
  const texts: string[] = [];
  const checkpoints: BackendState[] = [];
  const order: string[] = [];
  const started = Date.now();
  const { deadlineMs, ...rest } = extra;
  const done = (o: Partial<Outcome>): Outcome => ({ ...o, texts, checkpoints, order, ms: Date.now() - started });
  try {
    const answer = await h.backend.ask({
      state: undefined,
      text,
      user: USER,
      deadline: Date.now() + (deadlineMs ?? 2_500),
      logContext: { msgId: 'm-1' },
      onText: (t) => {
        texts.push(t);
        order.push('text');
      },
      onCheckpoint: async (s) => {
        checkpoints.push(s);
        order.push('checkpoint');
      },
      ...rest,
    });
    return done({ answer });
  } catch (error) {
    expect(error).toBeInstanceOf(AssistantError);
    return done({ error: error as AssistantError });
  }
}

const records = (h: Harness, msg: string) => h.logs.records().filter((r) => r.message === msg);
const conversationOf = (state: BackendState | undefined) => (state as { conversationId?: string }).conversationId;

describe('Dify backend: conversation', () => {
  it('streams an answer: body shape, bearer key, onText in order, usage, state, one info line', async () => {
    const h = await setup();
    const r = await ask(h, '什么是分数？', { requestId: 'r-1', role: 'student' });
    expect(r.answer?.answer).toBe('答：什么是分数？（第1轮）');
    const [chat] = h.fake.chats;
    expect(chat!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(chat!.body).toEqual({
      inputs: { role: 'student' },
      query: '什么是分数？',
      response_mode: 'streaming',
      conversation_id: '',
      user: USER,
    });
    const id = [...h.fake.conversations.keys()][0];
    expect(r.answer?.state).toEqual({ conversationId: id, lastRequestId: 'r-1', lastAnswer: r.answer?.answer });
    expect(r.answer?.usage).toEqual({ promptTokens: 6, completionTokens: r.answer!.answer.length });
    expect(r.texts.length).toBeGreaterThan(2);
    for (let i = 1; i < r.texts.length; i++) expect(r.texts[i]!.startsWith(r.texts[i - 1]!)).toBe(true);
    expect(r.texts.at(-1)).toBe(r.answer?.answer);
    const info = h.logs.records().filter((x) => x.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ message: 'model answered', attempts: 1, msgId: 'm-1', newConversation: true });
    expect(info[0]!.usage).toEqual(r.answer?.usage);
    for (const line of h.logs.lines) expect(line).not.toContain('分数');
  });

  it('continues the conversation Dify keeps; no role sends empty inputs', async () => {
    const h = await setup();
    const first = await ask(h, '第一问');
    const second = await ask(h, '第二问', { state: first.answer?.state });
    expect(second.answer?.answer).toBe('答：第二问（第2轮）');
    expect(h.fake.chats[1]!.body).toMatchObject({ inputs: {}, conversation_id: conversationOf(first.answer?.state) });
    expect(conversationOf(second.answer?.state)).toBe(conversationOf(first.answer?.state));
    expect(second.checkpoints).toEqual([]);
    expect(h.fake.conversations.size).toBe(1);
  });

  it('checkpoints a new conversation id once, before any text', async () => {
    const h = await setup();
    const r = await ask(h, '你好');
    const id = conversationOf(r.answer?.state);
    expect(r.checkpoints).toEqual([{ conversationId: id }]);
    expect(r.order[0]).toBe('checkpoint');
    expect(r.order.filter((o) => o === 'checkpoint')).toHaveLength(1);
  });

  it('a failure after the new conversation started carries its state', async () => {
    const h = await setup();
    h.fake.script({ errorAfter: { after: 1, code: 'completion_request_error', message: 'model failed' } });
    const r = await ask(h, '你好');
    expect(r.error?.kind).toBe('failed');
    const id = [...h.fake.conversations.keys()][0];
    expect(r.error?.state).toEqual({ conversationId: id });
    expect(r.checkpoints).toEqual([{ conversationId: id }]);
  });

  it('a repeated requestId returns the last answer without calling Dify', async () => {
    const h = await setup();
    const first = await ask(h, '问题', { requestId: 'msg-7' });
    const again = await ask(h, '问题', { requestId: 'msg-7', state: first.answer?.state });
    expect(again.answer?.answer).toBe(first.answer?.answer);
    expect(again.answer?.state).toBe(first.answer?.state);
    expect(h.fake.chats).toHaveLength(1);
  });

  it.each([
    ['forgotten upstream', (h: Harness, id: string) => void (h.fake.conversations.get(id)!.deleted = true)],
    ['owned by another user', (h: Harness, id: string) => void (h.fake.conversations.get(id)!.user = 'other')],
  ])('a conversation %s is replaced transparently, once', async (_name, spoil) => {
    const h = await setup();
    const first = await ask(h, '第一问', { requestId: 'r-1' });
    const oldId = conversationOf(first.answer?.state)!;
    spoil(h, oldId);
    const r = await ask(h, '第二问', { state: first.answer?.state, requestId: 'r-2' });
    expect(r.answer?.answer).toBe('答：第二问（第1轮）');
    const newId = conversationOf(r.answer?.state);
    expect(newId).not.toBe(oldId);
    expect(h.fake.chats.map((c) => c.body.conversation_id)).toEqual(['', oldId, '']);
    expect(r.checkpoints).toEqual([{ conversationId: newId, lastRequestId: 'r-1', lastAnswer: first.answer?.answer }]);
    expect(records(h, 'model conversation not found upstream; starting a new one')).toHaveLength(1);
  });

  it('message_replace replaces the whole answer so far', async () => {
    const h = await setup();
    h.fake.script({ replaceAfter: { after: 2, text: '抱歉，这个问题我不能回答。' } });
    const r = await ask(h, '问题很长很长很长');
    expect(r.answer?.answer).toBe('抱歉，这个问题我不能回答。');
    expect(r.texts).toContain('抱歉，这个问题我不能回答。');
  });

  it('strips <think> blocks and accepts event: lines', async () => {
    const h = await setup();
    h.fake.chunkChars = 3;
    h.fake.script({ text: '<think>推理过程</think>\n答案', eventLines: true });
    const r = await ask(h, '问');
    expect(r.answer?.answer).toBe('答案');
    for (const t of r.texts) expect(t).not.toContain('推理');
  });

  it('workflow_paused ends the question as unsupported', async () => {
    const h = await setup();
    h.fake.script({ pauseAfter: 1 });
    const r = await ask(h, '请填表');
    expect(r.error?.kind).toBe('unsupported');
    expect(r.error?.state).toEqual({ conversationId: [...h.fake.conversations.keys()][0] });
    expect(h.fake.chats).toHaveLength(1);
  });
});

describe('Dify backend: errors', () => {
  it.each([
    ['provider_quota_exceeded', 'quota', 'DIFY_API_KEY'],
    ['provider_not_initialize', 'quota', 'DIFY_API_KEY'],
    ['app_unavailable', 'config', 'DIFY_API_KEY'],
    ['data_inspection_failed', 'blocked', undefined],
    ['completion_request_error', 'failed', undefined],
  ])('an error event %s → %s, not retried', async (code, kind, hint) => {
    const h = await setup();
    h.fake.script({ errorAfter: { after: 0, code, message: 'details that stay upstream' } });
    const r = await ask(h, '问题');
    expect(r.error?.kind).toBe(kind);
    expect(r.error?.hint).toBe(hint);
    expect(r.error?.upstreamCode).toBe(code);
    expect(r.error?.message).not.toContain('details');
    expect(h.fake.chats).toHaveLength(1);
  });

  it.each([
    { name: '401', respond: difyErrors.unauthorized(), kind: 'auth', hint: 'DIFY_API_KEY' },
    { name: 'app_unavailable', respond: difyErrors.appUnavailable(), kind: 'config', hint: 'DIFY_API_KEY' },
    { name: 'not_chat_app', respond: difyErrors.notChatApp(), kind: 'config', hint: 'DIFY_API_KEY' },
    { name: 'no provider', respond: difyErrors.providerNotInitialized(), kind: 'quota', hint: 'DIFY_API_KEY' },
    { name: 'provider_quota_exceeded', respond: difyErrors.quotaExceeded(), kind: 'quota', hint: 'DIFY_API_KEY' },
    { name: 'completion_request_error', respond: difyErrors.completionError(), kind: 'failed', hint: undefined },
    { name: 'invalid_param', respond: difyErrors.invalidParam(), kind: 'rejected', hint: undefined },
  ])('HTTP $name → $kind, not retried, logged once', async ({ respond, kind, hint }) => {
    const h = await setup();
    h.fake.script({ respond });
    const r = await ask(h, '问题');
    expect(r.error?.kind).toBe(kind);
    expect(r.error?.hint).toBe(hint);
    expect(h.fake.chats).toHaveLength(1);
    const failures = records(h, 'model ask failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind, status: respond.status, attempts: 1 });
  });

  it('a 429 waits what Retry-After asks, then answers', async () => {
    const h = await setup();
    h.fake.script({ respond: difyErrors.rateLimited({ 'retry-after': '1' }) });
    const r = await ask(h, '你好', { deadlineMs: 3_000 });
    expect(r.answer?.answer).toBe('答：你好（第1轮）');
    const [a, b] = h.fake.chats;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(1_000);
  });

  it('a 500 is retried', async () => {
    const h = await setup();
    h.fake.script({ respond: difyErrors.serverError() });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（第1轮）');
    expect(h.fake.chats).toHaveLength(2);
  });

  it('a stream cut before message_end is retried in the conversation it opened', async () => {
    const h = await setup();
    h.fake.script({ cutAfterChunks: 1 });
    const r = await ask(h, '你好同学们');
    expect(h.fake.chats).toHaveLength(2);
    const id = [...h.fake.conversations.keys()][0];
    expect(h.fake.chats[1]!.body.conversation_id).toBe(id);
    expect(r.answer?.answer).toBe('答：你好同学们（第1轮）');
    expect(r.checkpoints).toEqual([{ conversationId: id }]);
    expect(h.fake.conversations.size).toBe(1);
  });

  it('a stream that never reaches message_end fails as unavailable at the deadline, never short', async () => {
    const h = await setup();
    h.fake.script(...Array.from({ length: 10 }, () => ({ cutAfterChunks: 1 })));
    const r = await ask(h, '你好', { deadlineMs: 1_800 });
    expect(r.error?.kind).toBe('unavailable');
    expect(r.error?.state).toEqual({ conversationId: [...h.fake.conversations.keys()][0] });
  });

  it('a hung Dify times out at the deadline', async () => {
    const h = await setup({ timeouts: { firstByteMs: 5_000, idleMs: 5_000 } });
    h.fake.script({ hangAfterChunks: 1 });
    const r = await ask(h, '你好', { deadlineMs: 700 });
    expect(r.error?.kind).toBe('timeout');
    expect(r.ms).toBeGreaterThanOrEqual(650);
    expect(r.ms).toBeLessThan(1_000);
  });

  it("the caller's signal cancels within 200 ms", async () => {
    const h = await setup({ timeouts: { firstByteMs: 5_000, idleMs: 5_000 } });
    h.fake.script({ hang: true });
    const controller = new AbortController();
    const pending = ask(h, '你好', { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    const aborted = Date.now();
    controller.abort();
    const r = await pending;
    expect(r.error?.kind).toBe('cancelled');
    expect(Date.now() - aborted).toBeLessThan(200);
  });
});

describe('Dify backend: secrets', () => {
  it('never logs the API key, at any level, on success, retry, failure or forget', async () => {
    const h = await setup();
    h.fake.script({ respond: difyErrors.serverError() }, {}, { respond: difyErrors.unauthorized() });
    const first = await ask(h, '一');
    expect(first.answer).toBeDefined();
    expect((await ask(h, '二')).error?.kind).toBe('auth');
    await h.backend.forget!(first.answer!.state, { user: USER, deadline: Date.now() + 1_000 });
    expect(h.logs.lines.some((l) => l.includes('"level":"debug"'))).toBe(true);
    expect(h.logs.lines.some((l) => l.includes('"level":"error"'))).toBe(true);
    for (const line of h.logs.lines) expect(line).not.toContain(KEY);
  });
});

describe('Dify backend: forget', () => {
  const forgetOptions = () => ({ user: USER, deadline: Date.now() + 1_000 });

  it('deletes the conversation with the user; the next question starts a new one', async () => {
    const h = await setup();
    const first = await ask(h, '第一问');
    const id = conversationOf(first.answer?.state)!;
    await h.backend.forget!(first.answer!.state, forgetOptions());
    const [del] = h.fake.deletes;
    expect(del).toMatchObject({ path: `/v1/conversations/${id}`, body: { user: USER } });
    expect(del!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(h.fake.conversations.get(id)?.deleted).toBe(true);
    const next = await ask(h, '第二问', { state: first.answer?.state });
    expect(next.answer?.answer).toBe('答：第二问（第1轮）');
  });

  it('a 204 and a 404 (already gone) are success', async () => {
    const h = await setup();
    h.fake.deleteStatus = 204;
    const first = await ask(h, '问');
    await h.backend.forget!(first.answer!.state, forgetOptions());
    await h.backend.forget!(first.answer!.state, forgetOptions());
    expect(h.fake.deletes).toHaveLength(2);
    expect(records(h, 'model conversation forgotten').map((r) => r.status)).toEqual([204, 404]);
  });

  it('failures are swallowed and logged at warn; no conversation means no call', async () => {
    const h = await setup();
    await h.backend.forget!({}, forgetOptions());
    expect(h.fake.deletes).toHaveLength(0);
    h.server.inject({ method: 'DELETE', path: /conversations/, respond: { status: 500, body: {} }, times: 1 });
    await h.backend.forget!({ conversationId: 'c-1' }, forgetOptions());
    h.server.inject({ method: 'DELETE', path: /conversations/, hang: true, times: 1 });
    const started = Date.now();
    await h.backend.forget!({ conversationId: 'c-2' }, { user: USER, deadline: Date.now() + 300 });
    expect(Date.now() - started).toBeLessThan(600);
    const warns = records(h, 'model conversation could not be forgotten');
    expect(warns.map((w) => w.level)).toEqual(['warn', 'warn']);
    expect(warns[0]).toMatchObject({ status: 500 });
    expect(warns[1]).toMatchObject({ kind: 'timeout' });
  });
});
