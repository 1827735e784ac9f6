import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createDingTalkThreadsClient } from '../../src/backends/dingtalk-assistant/dingtalk-threads-client.js';
import type { RunCheckpoint, ThreadsClient } from '../../src/backends/dingtalk-assistant/threads-client.js';
import { createDingTalkApi, type DingTalkHttpClient } from '../../src/dingtalk/dingtalk-http-client.js';
import { AssistantError } from '../../src/errors.js';
import { startFakeDingTalk, type FakeDingTalk, type FakeDingTalkOptions } from '../fakes/fake-dingtalk.js';
import { dingError } from '../fakes/fake-http-server.js';
import { captureLogger, type CapturedLogs } from '../helpers/capture-logs.js';

interface Harness {
  readonly fake: FakeDingTalk;
  readonly backend: ThreadsClient;
  readonly logs: CapturedLogs;
  readonly api: DingTalkHttpClient;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) {
    h.api.close();
    await h.fake.close();
  }
});

async function setup(
  options: { streaming?: boolean; timeoutMs?: number; fake?: FakeDingTalkOptions; apiBase?: string } = {},
): Promise<Harness> {
  const fake = await startFakeDingTalk({ ...options.fake, assistant: { runDurationMs: 80, ...options.fake?.assistant } });
  const base = loadConfig({
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    DING_APP_KEY: fake.tokens.appKey,
    DING_APP_SECRET: fake.tokens.appSecret,
    AI_ASSISTANT_ID: fake.assistant.assistantId,
    DINGTALK_API_BASE: options.apiBase ?? fake.baseUrl,
    ASSISTANT_STREAMING: String(options.streaming ?? true),
  });
  const config = { ...base, dingtalk: { ...base.dingtalk, timeoutMs: options.timeoutMs ?? 3_000 } };
  const logs = captureLogger();
  const api = createDingTalkApi({ config, logger: logs.logger, redactor: logs.redactor });
  const backend = createDingTalkThreadsClient({
    api,
    assistantId: fake.assistant.assistantId,
    streaming: options.streaming ?? true,
    callTimeoutMs: config.dingtalk.timeoutMs,
    logger: logs.logger,
  });
  const h = { fake, backend, logs, api };
  open.push(h);
  return h;
}

const within = (ms: number) => Date.now() + ms;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function askOnce(h: Harness, text: string, extra: { deadlineMs?: number; signal?: AbortSignal } = {}) {
  const threadId = await h.backend.createThread({ deadline: within(5_000) });
  const checkpoints: RunCheckpoint[] = [];
  const result = h.backend
    .ask({
      threadId,
      text,
      deadline: within(extra.deadlineMs ?? 8_000),
      signal: extra.signal,
      logContext: { msgId: 'm-1' },
      onProgress: (c) => void checkpoints.push(c),
    })
    .then(
      (answer) => ({ answer, error: undefined }),
      (error: unknown) => ({ answer: undefined, error: error as AssistantError }),
    );
  return { threadId, checkpoints, ...(await result) };
}

const records = (h: Harness, msg: string) => h.logs.records().filter((r) => r.msg === msg || r.message === msg);

describe.each([true, false])('DingTalk assistant backend (streaming=%s)', (streaming) => {
  it('answers a question and reports both checkpoints', async () => {
    const h = await setup({ streaming });
    const r = await askOnce(h, '你好');
    expect(r.answer?.answer).toBe('答：你好');
    const runs = h.fake.assistant.runsOf(r.threadId);
    expect(runs).toHaveLength(1);
    expect(r.answer?.runId).toBe(runs[0]!.id);
    expect(r.checkpoints).toEqual([
      { step: 'message-added', messageId: expect.stringMatching(/^message_[0-9a-f]{32}$/) },
      { step: 'run-started', runId: runs[0]!.id },
    ]);
    const [line] = records(h, 'assistant answered');
    expect(line).toMatchObject({ threadId: r.threadId, runId: runs[0]!.id, msgId: 'm-1', mode: streaming ? 'stream' : 'poll' });
    expect(line!.durationMs).toEqual(expect.any(Number));
    expect(line!.upstreamCalls).toEqual(streaming ? 2 : expect.any(Number));
    if (streaming) expect(h.fake.assistant.calls.listMessages).toBe(0);
    else expect(h.fake.server.requests.some((q) => q.query.includes('order=asc') && q.query.includes('runId='))).toBe(true);
  });

  it('joins tool and assistant messages and skips unknown content items', async () => {
    const h = await setup({
      streaming,
      fake: {
        assistant: {
          answer: (q) => [
            { role: 'tool', text: `查到：${q}` },
            { role: 'assistant', content: [{ type: 'card', card: {} }, { type: 'text', text: { value: '结论' } }] },
          ],
        },
      },
    });
    expect((await askOnce(h, '天气')).answer?.answer).toBe('查到：天气\n\n结论');
  });

  it('a failed run ends the wait at once as "failed"; lastErrorMsg only in the log', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.scriptNextRun({ failWith: '模型调用异常 internal-detail', durationMs: 100 });
    const started = Date.now();
    const r = await askOnce(h, '问题', { deadlineMs: 15_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.error).toBeInstanceOf(AssistantError);
    expect(r.error?.kind).toBe('failed');
    expect(r.error?.message).not.toContain('internal-detail');
    const [line] = records(h, 'assistant ask failed');
    expect(line).toMatchObject({ kind: 'failed', runStatus: 'failed', lastErrorMsg: '模型调用异常 internal-detail' });
  });

  it('an unknown terminal status is a failure too', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.scriptNextRun({ endStatus: 'expired' });
    expect((await askOnce(h, '问题')).error?.kind).toBe('failed');
  });

  it('retries transient codes, then succeeds with the question added once', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.failNext('addMessage', { code: 'system.error', times: 2 });
    h.fake.assistant.failNext('createRun', { code: 'run.create.exception', times: 1 });
    const r = await askOnce(h, '重试');
    expect(r.answer?.answer).toBe('答：重试');
    expect(h.fake.assistant.calls.addMessage).toBe(3);
    expect(h.fake.assistant.calls.createRun).toBe(2);
    expect(h.fake.assistant.userMessages(r.threadId)).toEqual(['重试']);
    expect(h.fake.assistant.runsOf(r.threadId)).toHaveLength(1);
  });

  it('does not retry caller mistakes', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.failNext('createRun', { code: 'run.assistantparam.error', message: '助理参数错误' });
    const r = await askOnce(h, '问题');
    expect(r.error?.kind).toBe('rejected');
    expect(r.error?.upstreamCode).toBe('run.assistantparam.error');
    expect(h.fake.assistant.calls.createRun).toBe(1);
    h.fake.assistant.failNext('addMessage', { code: 'message.role.error' });
    expect((await askOnce(h, '问题')).error?.kind).toBe('rejected');
    expect(h.fake.assistant.calls.addMessage).toBe(2);
  });

  it('maps thread.not.exist to conversation_missing without retrying', async () => {
    const h = await setup({ streaming });
    const err = await h.backend
      .ask({ threadId: 'thread_message_0123456789abcdef0123456789abcdef', text: '在吗', deadline: within(5_000) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'conversation_missing', upstreamCode: 'thread.not.exist' });
    expect(h.fake.assistant.calls.addMessage).toBe(1);
  });

  it('times out at the deadline on a never-finishing run, then resume() answers a slow run later', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.scriptNextRun({ neverFinish: true });
    const started = Date.now();
    const stuck = await askOnce(h, '卡住', { deadlineMs: 500 });
    expect(stuck.error?.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(stuck.checkpoints.map((c) => c.step)).toEqual(['message-added', 'run-started']);
    const resumeStuck = await h.backend
      .resume({ threadId: stuck.threadId, runId: h.fake.assistant.runsOf(stuck.threadId)[0]!.id, deadline: within(300) })
      .catch((e: unknown) => e);
    expect(resumeStuck).toMatchObject({ kind: 'timeout' });

    h.fake.assistant.scriptNextRun({ durationMs: 1_200 });
    const slow = await askOnce(h, '慢', { deadlineMs: 300 });
    expect(slow.error?.kind).toBe('timeout');
    const runId = (slow.checkpoints.find((c) => c.step === 'run-started') as { runId: string }).runId;
    const resumed = await h.backend.resume({ threadId: slow.threadId, runId, deadline: within(8_000) });
    expect(resumed).toEqual({ answer: '答：慢', runId });
    expect(h.fake.assistant.runsOf(slow.threadId)).toHaveLength(1);
  });

  it('survives one 403 QpsLimit, and reports rate_limited when it persists', async () => {
    const h = await setup({ streaming });
    const qps = dingError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '请求被限流');
    h.fake.server.inject({ method: 'POST', path: /\/messages$/, times: 1, respond: qps });
    const r = await askOnce(h, '限流');
    expect(r.answer?.answer).toBe('答：限流');
    expect(h.fake.server.count('POST', /\/messages$/)).toBe(2);
    h.fake.server.inject({ method: 'POST', path: /\/messages$/, respond: qps });
    expect((await askOnce(h, '一直限流', { deadlineMs: 2_500 })).error?.kind).toBe('rate_limited');
  });

  it('asks the question exactly once when the add-message answer is lost (reset)', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.dropNextResponse('addMessage', 'reset');
    const r = await askOnce(h, '只问一次');
    expect(r.answer?.answer).toBe('答：只问一次');
    expect(h.fake.assistant.userMessages(r.threadId)).toEqual(['只问一次']);
    expect(h.fake.assistant.runsOf(r.threadId)).toHaveLength(1);
    expect(records(h, 'dingtalk call had landed despite the error')).toHaveLength(1);
  });

  it('asks the question exactly once when the add-message answer never comes (hang)', async () => {
    const h = await setup({ streaming, timeoutMs: 300 });
    h.fake.assistant.dropNextResponse('addMessage', 'hang');
    const r = await askOnce(h, '只问一次');
    expect(r.answer?.answer).toBe('答：只问一次');
    expect(h.fake.assistant.userMessages(r.threadId)).toEqual(['只问一次']);
    expect(h.fake.assistant.calls.addMessage).toBe(1);
  });

  it('adds the message again when the lost attempt did not land', async () => {
    const h = await setup({ streaming });
    h.fake.server.inject({ method: 'POST', path: /\/messages$/, times: 1, reset: true });
    const r = await askOnce(h, '再来');
    expect(r.answer?.answer).toBe('答：再来');
    expect(h.fake.assistant.userMessages(r.threadId)).toEqual(['再来']);
    expect(h.fake.assistant.calls.listMessages).toBeGreaterThanOrEqual(1); // it checked first
  });

  it('starts one run when the create-run answer is lost', async () => {
    const h = await setup({ streaming, timeoutMs: 400 });
    h.fake.assistant.dropNextResponse('createRun', streaming ? 'hang' : 'reset');
    const r = await askOnce(h, '一个运行');
    expect(r.answer?.answer).toBe('答：一个运行');
    expect(h.fake.assistant.runsOf(r.threadId)).toHaveLength(1);
    expect(r.checkpoints.filter((c) => c.step === 'run-started')).toHaveLength(1);
    expect(records(h, 'dingtalk call had landed despite the error')).toHaveLength(1);
  });

  it('resuming after a crash, finds the question and its run upstream: nothing added, no second run', async () => {
    const h = await setup({ streaming });
    const first = await askOnce(h, '崩溃之前');
    const checkpoints: RunCheckpoint[] = [];
    for (const flag of ['messageMaybeAdded', 'messageAlreadyAdded'] as const) {
      const again = await h.backend.ask({
        threadId: first.threadId,
        text: '崩溃之前',
        deadline: within(5_000),
        [flag]: true,
        onProgress: (c) => void checkpoints.push(c),
      });
      expect(again).toEqual(first.answer);
    }
    expect(h.fake.assistant.userMessages(first.threadId)).toEqual(['崩溃之前']);
    expect(h.fake.assistant.runsOf(first.threadId)).toHaveLength(1);
    expect(checkpoints.filter((c) => c.step === 'run-started')).toHaveLength(2);
  });

  it('resuming after a crash before the text landed, adds it once and answers', async () => {
    const h = await setup({ streaming });
    const first = await askOnce(h, '第一个');
    const r = await h.backend.ask({ threadId: first.threadId, text: '第二个', deadline: within(5_000), messageMaybeAdded: true });
    expect(r.answer).toBe('答：第二个');
    expect(h.fake.assistant.userMessages(first.threadId)).toEqual(['第一个', '第二个']);
    expect(h.fake.assistant.runsOf(first.threadId)).toHaveLength(2);
  });

  it('rejects a question over 4000 characters without calling upstream', async () => {
    const h = await setup({ streaming });
    const threadId = await h.backend.createThread({ deadline: within(3_000) });
    const err = await h.backend.ask({ threadId, text: 'x'.repeat(4001), deadline: within(3_000) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rejected' });
    expect(h.fake.assistant.calls.addMessage).toBe(0);
  });

  it('stops with "cancelled" when the signal aborts', async () => {
    const h = await setup({ streaming });
    h.fake.assistant.scriptNextRun({ neverFinish: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const r = await askOnce(h, '取消', { signal: controller.signal, deadlineMs: 10_000 });
    expect(r.error?.kind).toBe('cancelled');
  });
});

describe('DingTalk assistant backend, streaming specifics', () => {
  it('a follow-up question costs at most 3 upstream calls, no token call, and reuses connections', async () => {
    const h = await setup();
    const first = await askOnce(h, '第一');
    let connections = 0;
    h.fake.server.httpServer.on('connection', () => connections++);
    const before = h.fake.server.requests.length;
    const second = await h.backend.ask({ threadId: first.threadId, text: '第二', deadline: within(5_000) });
    expect(second.answer).toBe('答：第二');
    const calls = h.fake.server.requests.slice(before);
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(calls.some((c) => c.path.includes('oauth2'))).toBe(false);
    expect(connections).toBeLessThanOrEqual(1);
  });

  it('reports the answer so far while the run streams: growing texts, ending with the answer', async () => {
    const h = await setup({ fake: { assistant: { runDurationMs: 300, answer: () => '光合作用把光能变成化学能，产物是葡萄糖和氧气。' } } });
    const threadId = await h.backend.createThread({ deadline: within(5_000) });
    const seen: string[] = [];
    const result = await h.backend.ask({ threadId, text: '光合作用', deadline: within(5_000), onText: (t) => seen.push(t) });
    expect(result.answer).toBe('光合作用把光能变成化学能，产物是葡萄糖和氧气。');
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toBe(result.answer);
    for (const t of seen) {
      expect(t).not.toContain('&&Next');
      expect(result.answer.startsWith(t)).toBe(true);
    }
    expect(new Set(seen).size).toBe(seen.length); // only changes are reported
  });

  it('lets go of the streamed connection as soon as the answer is in, so later questions reuse it', async () => {
    const h = await setup();
    const first = await askOnce(h, 'warm-up');
    await sleep(100); // the finished stream drains in the background
    let connections = 0;
    h.fake.server.httpServer.on('connection', () => connections++);
    for (const text of ['一', '二', '三']) {
      await h.backend.ask({ threadId: first.threadId, text, deadline: within(5_000) });
      await sleep(100);
    }
    // A stream held open after its answer would force a new connection for every run.
    expect(connections).toBe(0);
  });

  it.each([
    ['append deltas, standard blank lines', { deltaMode: 'append' as const }],
    ['overwrite deltas, no blank lines (doc sample)', { sseBlankLines: false }],
    ['append deltas, no blank lines', { deltaMode: 'append' as const, sseBlankLines: false }],
  ])('folds %s', async (_name, assistant) => {
    const h = await setup({ fake: { assistant: { ...assistant, answer: () => '春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。' } } });
    expect((await askOnce(h, '诗')).answer?.answer).toBe('春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。');
  });

  it.each([3, 5])('falls back to polling when the stream is cut after %i events, answering once', async (cut) => {
    const h = await setup();
    h.fake.assistant.scriptNextRun({ cutStreamAfterEvents: cut, durationMs: 150 });
    const r = await askOnce(h, '断流');
    expect(r.answer?.answer).toBe('答：断流');
    expect(h.fake.assistant.calls.retrieveRun).toBeGreaterThanOrEqual(1);
    expect(h.fake.assistant.calls.listMessages).toBe(1);
    expect(h.fake.assistant.runsOf(r.threadId)).toHaveLength(1);
    expect(records(h, 'assistant answered')[0]).toMatchObject({ fallback: true });
  });

  it('finds the run by listing runs when the stream is cut before the run id arrived', async () => {
    const h = await setup();
    h.fake.assistant.scriptNextRun({ cutStreamAfterEvents: 0 });
    const r = await askOnce(h, '没有运行号');
    expect(r.answer?.answer).toBe('答：没有运行号');
    expect(h.fake.assistant.calls.listRuns).toBe(1);
    expect(h.fake.assistant.runsOf(r.threadId)).toHaveLength(1);
    expect(r.checkpoints.map((c) => c.step)).toEqual(['message-added', 'run-started']);
  });
});

describe('DingTalk assistant backend, polling specifics', () => {
  it('sees a quick run finish soon after it does, without hammering the API', async () => {
    const h = await setup({ streaming: false, fake: { assistant: { runDurationMs: 800 } } });
    const threadId = await h.backend.createThread({ deadline: within(3_000) });
    const started = Date.now();
    const r = await h.backend.ask({ threadId, text: '快', deadline: within(8_000) });
    expect(r.answer).toBe('答：快');
    expect(Date.now() - started).toBeLessThan(800 + 1_000); // generous: ~110 ms late by design
    expect(h.fake.assistant.calls.retrieveRun).toBeLessThanOrEqual(8);
  });
});

describe('DingTalk assistant backend, broken connections', () => {
  it('connection reset on every call ends as unavailable after a few tries', async () => {
    const h = await setup();
    h.fake.server.inject({ method: 'POST', path: '/v1.0/assistant/threads', reset: true });
    const err = await h.backend.createThread({ deadline: within(8_000) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable' });
    expect(h.fake.server.count('POST', '/v1.0/assistant/threads')).toBeGreaterThanOrEqual(3);
  });

  it('a hang on every call ends at the per-call timeout or the deadline', async () => {
    const h = await setup({ timeoutMs: 200 });
    const threadId = await h.backend.createThread({ deadline: within(5_000) });
    h.fake.server.inject({ method: 'POST', path: /^\/v1\.0\/assistant\/threads/, hang: true });
    h.fake.server.inject({ method: 'GET', path: /^\/v1\.0\/assistant\/threads/, hang: true });
    const started = Date.now();
    const created = await h.backend.createThread({ deadline: within(10_000) }).catch((e: unknown) => e);
    expect(created).toMatchObject({ kind: 'timeout' });
    const asked = await h.backend.ask({ threadId, text: '有人吗', deadline: within(1_500) }).catch((e: unknown) => e);
    expect(asked).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(9_000);
  });

  it('connection refused is unavailable', async () => {
    const h = await setup({ apiBase: 'http://127.0.0.1:9' });
    const err = await h.backend.createThread({ deadline: within(5_000) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unavailable' });
  });

  it('an expired token mid-conversation costs one refresh and the answer still comes', async () => {
    const h = await setup();
    const first = await askOnce(h, '一');
    h.fake.tokens.revokeAll();
    const second = await h.backend.ask({ threadId: first.threadId, text: '二', deadline: within(5_000) });
    expect(second.answer).toBe('答：二');
    expect(h.fake.tokens.calls).toBe(2);
    const text = h.logs.lines.join('\n');
    for (const token of h.fake.tokens.issued) expect(text).not.toContain(token);
  });
});
