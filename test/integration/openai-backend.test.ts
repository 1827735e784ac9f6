import { afterEach, describe, expect, it } from 'vitest';
import { openAiErrors } from '../fakes/fake-openai-api.js';
import { ask, BASE_PATH, closeHarnesses, converse, expectGrowing, KEY, records, setup, SYSTEM, textsOnly, turnsOf } from '../helpers/openai-backend-harness.js';

afterEach(closeHarnesses);

describe('OpenAI-compatible backend: request and answer', () => {
  it('streams an answer: body shape, bearer key, onText in order, usage in the one info line', async () => {
    const h = await setup();
    const r = await ask(h, '光合作用是什么？');
    expect(r.answer?.answer).toBe('答：光合作用是什么？（之前0轮）');
    const [body] = h.fake.bodies;
    expect(body).toEqual({
      model: 'qwen-plus',
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: '光合作用是什么？' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(body).not.toHaveProperty('user');
    expect(h.server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.texts.length).toBeGreaterThan(2);
    expectGrowing(r.texts);
    expect(r.texts.at(-1)).toBe(r.answer?.answer);
    // The fake counts characters as tokens.
    const usage = { promptTokens: SYSTEM.length + 8, completionTokens: r.answer!.answer.length };
    expect(r.answer?.usage).toEqual(usage);
    const info = h.logs.records().filter((x) => x.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ message: 'model answered', model: 'qwen-plus', attempts: 1, usage, msgId: 'm-1' });
    expect(info[0]!.durationMs).toEqual(expect.any(Number));
    for (const line of h.logs.lines) expect(line).not.toContain('光合作用');
  });

  it('merges OPENAI_EXTRA_BODY last; a null removes the field', async () => {
    const h = await setup({ extraBody: { stream_options: null, temperature: 0.3, enable_thinking: false } });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    const body = h.fake.bodies[0];
    expect(body).not.toHaveProperty('stream_options');
    expect(body).toMatchObject({ temperature: 0.3, enable_thinking: false, stream: true, model: 'qwen-plus' });
    expect(r.answer?.usage).toBeUndefined();
  });

  it('the question input.systemPrompt replaces the configured one; an empty prompt is not sent', async () => {
    const h = await setup();
    await ask(h, '一', { systemPrompt: '你是老师的助手。' });
    await ask(h, '二', { systemPrompt: '' });
    expect(h.fake.bodies[0].messages[0]).toEqual({ role: 'system', content: '你是老师的助手。' });
    expect(textsOnly(h.fake.bodies[1].messages)).toEqual(['user:二']);
  });

  it('finish_reason "length" is still an answer, with a warning', async () => {
    const h = await setup();
    h.fake.script({ text: '很长的回答被截断', finishReason: 'length' });
    const r = await ask(h, '写一篇作文');
    expect(r.answer?.answer).toBe('很长的回答被截断');
    expect(records(h, 'model answer reached the length limit')).toHaveLength(1);
  });

  it('an answer complete at finish_reason does not wait for a usage chunk that never comes', async () => {
    const h = await setup({ timeouts: { firstByteMs: 1_000, idleMs: 1_500 } });
    h.fake.script({ hangAfterFinish: true });
    const r = await ask(h, '你好', { deadlineMs: 2_800 });
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    expect(r.ms).toBeLessThan(1_400);
    expect(h.fake.calls).toBe(1);
  });
});

describe('OpenAI-compatible backend: local history', () => {
  it('sends the system prompt, earlier turns oldest first, then the question; state records each turn', async () => {
    const h = await setup();
    const r = await converse(h, ['第一问', '第二问', '第三问']);
    expect(r.answer?.answer).toBe('答：第三问（之前2轮）');
    expect(textsOnly(h.fake.bodies[2].messages)).toEqual([
      `system:${SYSTEM}`,
      'user:第一问',
      'assistant:答：第一问（之前0轮）',
      'user:第二问',
      'assistant:答：第二问（之前1轮）',
      'user:第三问',
    ]);
    expect(r.answer?.state).toEqual({
      v: 1,
      turns: [
        { q: '第一问', a: '答：第一问（之前0轮）', id: 'r-1' },
        { q: '第二问', a: '答：第二问（之前1轮）', id: 'r-2' },
        { q: '第三问', a: '答：第三问（之前2轮）', id: 'r-3' },
      ],
    });
  });

  it('keeps at most HISTORY_MAX_TURNS newest whole turns, in requests and in the state', async () => {
    const h = await setup({ historyMaxTurns: 2 });
    const r = await converse(h, ['q1', 'q2', 'q3', 'q4']);
    expect(textsOnly(h.fake.bodies[3].messages)).toEqual([
      `system:${SYSTEM}`,
      'user:q2',
      'assistant:答：q2（之前1轮）',
      'user:q3',
      'assistant:答：q3（之前2轮）',
      'user:q4',
    ]);
    expect(turnsOf(r.answer?.state).map((t) => t.q)).toEqual(['q3', 'q4']);
  });

  it('keeps at most HISTORY_MAX_CHARS of earlier turns; the system prompt and the question never count', async () => {
    // Each turn is 'qN' (2) + '答：qN（之前M轮）' (10) = 12 characters: 30 allows two turns.
    const long = '很'.repeat(100);
    const h = await setup({ historyMaxChars: 30, systemPrompt: '长'.repeat(500) });
    await converse(h, ['q1', 'q2', 'q3']);
    const state = (await ask(h, long, { state: undefined })).answer?.state;
    expect(state).toEqual({ v: 1, turns: [{ q: long, a: `答：${long}（之前0轮）` }] });
    const r = await ask(h, 'q4', {
      state: { v: 1, turns: ['q1', 'q2', 'q3'].map((q, i) => ({ q, a: `答：${q}（之前${i}轮）` })) },
    });
    const sent = h.fake.bodies.at(-1).messages;
    expect(sent[0].content).toHaveLength(500);
    expect(textsOnly(sent).slice(1)).toEqual([
      'user:q2',
      'assistant:答：q2（之前1轮）',
      'user:q3',
      'assistant:答：q3（之前2轮）',
      'user:q4',
    ]);
    expect(turnsOf(r.answer?.state).map((t) => t.q)).toEqual(['q3', 'q4']);
  });

  it('a repeated requestId returns the stored answer and state without calling the model', async () => {
    const h = await setup();
    const first = await ask(h, '问题', { requestId: 'msg-42' });
    const again = await ask(h, '问题', { requestId: 'msg-42', state: first.answer?.state });
    expect(again.answer?.answer).toBe(first.answer?.answer);
    expect(again.answer?.state).toBe(first.answer?.state);
    expect(h.fake.calls).toBe(1);
    const next = await ask(h, '问题', { requestId: 'msg-43', state: first.answer?.state });
    expect(next.answer?.answer).toBe('答：问题（之前1轮）');
    expect(h.fake.calls).toBe(2);
  });

  it('a state of another shape reads as a new conversation', async () => {
    const h = await setup();
    const r = await ask(h, '你好', { state: { conversationId: 'c-1' } });
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
  });

  it('a context-length 400 is retried once with half the turns; the state keeps what was sent', async () => {
    const h = await setup();
    const turns = ['q1', 'q2', 'q3', 'q4'].map((q) => ({ q, a: 'a'.repeat(40) }));
    // Four turns (4 × 42 characters) overflow; two fit.
    h.fake.contextLimitChars = SYSTEM.length + '新问题'.length + 2 * 42 + 10;
    const r = await ask(h, '新问题', { state: { v: 1, turns } });
    expect(r.answer?.answer).toBe('答：新问题（之前2轮）');
    expect(h.fake.calls).toBe(2);
    expect(h.fake.bodies[0].messages).toHaveLength(10);
    expect(textsOnly(h.fake.bodies[1].messages).slice(1, 2)).toEqual(['user:q3']);
    expect(turnsOf(r.answer?.state).map((t) => t.q)).toEqual(['q3', 'q4', '新问题']);
    expect(records(h, 'model context overflowed; retrying with half the history')).toHaveLength(1);
  });

  it('a context overflow with half the turns too is rejected, and only retried once', async () => {
    const h = await setup();
    const turns = ['q1', 'q2'].map((q) => ({ q, a: 'a'.repeat(40) }));
    h.fake.contextLimitChars = 10;
    const r = await ask(h, '新问题', { state: { v: 1, turns } });
    expect(r.error?.kind).toBe('rejected');
    expect(r.error?.upstreamCode).toBe('context_length_exceeded');
    expect(h.fake.calls).toBe(2);
  });
});

describe('OpenAI-compatible backend: reasoning', () => {
  it.each(['reasoning_content', 'reasoning'] as const)('drops delta.%s from answer, onText, state', async (field) => {
    const h = await setup();
    h.fake.script({ reasoning: { field, text: '让我想想：秘密推理过程' } });
    const r = await ask(h, '你好', { requestId: 'r-1' });
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    for (const t of r.texts) expect(t).not.toContain('推理');
    expect(JSON.stringify(r.answer?.state)).not.toContain('推理');
  });

  it('strips inline <think> blocks split across chunks', async () => {
    const h = await setup();
    h.fake.chunkChars = 3;
    h.fake.script({ text: '<think>先分析题目，推理很长</think>\n\n答案是42。<think>再想</think>完毕' });
    const r = await ask(h, '问');
    expect(r.answer?.answer).toBe('答案是42。完毕');
    for (const t of r.texts) {
      expect(t).not.toContain('推理');
      expect(t).not.toContain('<');
    }
    expectGrowing(r.texts);
    expect(JSON.stringify(r.answer?.state)).not.toContain('think');
  });

  it('an unclosed <think> hides everything after it', async () => {
    const h = await setup();
    h.fake.script({ text: '前言<think>想了又想，没有结束' });
    const r = await ask(h, '问');
    expect(r.answer?.answer).toBe('前言');
    for (const t of r.texts) expect(t).not.toContain('想');
  });

  it('text before a bare </think> at the start is reasoning', async () => {
    const h = await setup();
    h.fake.script({ text: '模板吞掉了开头标签的推理</think>真正的回答' });
    const r = await ask(h, '问');
    expect(r.answer?.answer).toBe('真正的回答');
    expect(r.texts.at(-1)).toBe('真正的回答');
  });
});

describe('OpenAI-compatible backend: retries', () => {
  it('a 429 waits what Retry-After asks (seconds), then answers', async () => {
    const h = await setup();
    h.fake.script({ respond: openAiErrors.rateLimited({ 'retry-after': '1' }) });
    const r = await ask(h, '你好', { deadlineMs: 3_000 });
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    const [a, b] = h.server.requests;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(1_000);
    expect(records(h, 'model answered')[0]).toMatchObject({ attempts: 2 });
  });

  it('retry-after-ms wins over Retry-After', async () => {
    const h = await setup();
    h.fake.script({ respond: openAiErrors.rateLimited({ 'retry-after-ms': '300', 'retry-after': '10' }) });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBeDefined();
    const [a, b] = h.server.requests;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(300);
    expect(b!.at - a!.at).toBeLessThan(1_000);
  });

  it('a Retry-After beyond the deadline gives up at once as rate_limited', async () => {
    const h = await setup();
    h.fake.script({ respond: openAiErrors.rateLimited({ 'retry-after': '30' }) });
    const r = await ask(h, '你好', { deadlineMs: 2_000 });
    expect(r.error?.kind).toBe('rate_limited');
    expect(r.ms).toBeLessThan(500);
    expect(h.fake.calls).toBe(1);
  });

  it.each([500, 502, 503])('a %s is retried, then answers', async (status) => {
    const h = await setup();
    h.fake.script({ respond: openAiErrors.serverError(status) });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    expect(h.fake.calls).toBe(2);
  });

  it('a connection reset before the answer is retried', async () => {
    const h = await setup();
    h.server.inject({ method: 'POST', path: `${BASE_PATH}/chat/completions`, reset: true, times: 1 });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    expect(h.server.count('POST', `${BASE_PATH}/chat/completions`)).toBe(2);
  });

  it('a stream cut mid-answer is retried; onText starts over; the answer is whole', async () => {
    const h = await setup();
    h.fake.script({ cutAfterChunks: 2 });
    const r = await ask(h, '你好呀同学');
    expect(r.answer?.answer).toBe('答：你好呀同学（之前0轮）');
    expect(h.fake.calls).toBe(2);
    const restart = r.texts.findIndex((t, i) => i > 0 && t.length < r.texts[i - 1]!.length);
    expect(restart).toBeGreaterThan(0);
    expect(r.texts.at(-1)).toBe(r.answer?.answer);
  });

  it('a stream always ending without finish_reason or [DONE] fails as unavailable, never short', async () => {
    const h = await setup();
    h.fake.script(...Array.from({ length: 10 }, () => ({ endAfterChunks: 2 })));
    const r = await ask(h, '你好', { deadlineMs: 2_000, requestId: 'r-1' });
    expect(r.error?.kind).toBe('unavailable');
    expect(r.error?.upstreamCode).toBe('stream_cut_short');
    expect(r.error?.state).toBeUndefined();
    expect(h.fake.calls).toBeGreaterThan(1);
    expect(records(h, 'model ask failed')).toHaveLength(1);
  });

  it('a silent stream (idle timeout) is retried', async () => {
    const h = await setup({ timeouts: { firstByteMs: 1_000, idleMs: 300 } });
    h.fake.script({ hangAfterChunks: 1 });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    expect(h.fake.calls).toBe(2);
  });

  it('a mid-stream error that is not moderation is retried', async () => {
    const h = await setup();
    const error = { message: 'internal error', type: 'server_error', code: 'internal_error' };
    h.fake.script({ errorAfterChunks: { after: 1, error } });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    expect(h.fake.calls).toBe(2);
  });
});

describe('OpenAI-compatible backend: errors that are not retried', () => {
  it.each([
    ['DashScope data_inspection_failed', openAiErrors.dashScopeBlocked(), 'data_inspection_failed'],
    ['Ark InputTextRiskDetection', openAiErrors.arkBlocked(), 'InputTextRiskDetection'],
    ['Zhipu 1301', openAiErrors.zhipuBlocked(), '1301'],
  ])('moderation (%s) is blocked: one call, no new state', async (_name, respond, code) => {
    const h = await setup();
    h.fake.script({ respond });
    const r = await ask(h, '敏感问题', { state: { v: 1, turns: [{ q: 'a', a: 'b' }] } });
    expect(r.error?.kind).toBe('blocked');
    expect(r.error?.upstreamCode).toBe(code);
    expect(r.error?.state).toBeUndefined();
    expect(r.error?.message).not.toMatch(/inappropriate|敏感/);
    expect(h.fake.calls).toBe(1);
  });

  it('finish_reason content_filter is blocked, not retried, although text had streamed', async () => {
    const h = await setup();
    h.fake.script({ finishReason: 'content_filter' });
    const r = await ask(h, '问题');
    expect(r.error?.kind).toBe('blocked');
    expect(r.error?.upstreamCode).toBe('content_filter');
    expect(h.fake.calls).toBe(1);
  });

  it('output moderation as a mid-stream error is blocked', async () => {
    const h = await setup();
    h.fake.script({
      errorAfterChunks: {
        after: 2,
        error: {
          code: 'data_inspection_failed',
          message: 'Output data may contain inappropriate content.',
          type: 'data_inspection_failed',
        },
      },
    });
    const r = await ask(h, '问题');
    expect(r.error?.kind).toBe('blocked');
    expect(h.fake.calls).toBe(1);
    expect(records(h, 'model ask failed')[0]).toMatchObject({ level: 'warn', kind: 'blocked', attempts: 1 });
  });

  it.each([
    { name: '401 wrong key', options: { apiKey: 'sk-wrong-key-000000' }, kind: 'auth', hint: 'OPENAI_API_KEY' },
    { name: '403 AccountOverdueError', respond: openAiErrors.arkOverdue(), kind: 'quota', hint: 'OPENAI_API_KEY' },
    { name: '404 unknown model', options: { model: 'qwen-nope' }, kind: 'config', hint: 'OPENAI_MODEL' },
    { name: '404 HTML page', respond: openAiErrors.htmlNotFound(), kind: 'config', hint: 'OPENAI_BASE_URL' },
    { name: '402 balance', respond: openAiErrors.paymentRequired(), kind: 'quota', hint: 'OPENAI_API_KEY' },
    { name: '429 Zhipu 1113 arrears', respond: openAiErrors.zhipuArrears(), kind: 'quota', hint: 'OPENAI_API_KEY' },
    { name: '400 invalid value', respond: openAiErrors.badRequest(), kind: 'rejected', hint: undefined },
  ])('$name → $kind (hint $hint), one call, logged once', async ({ options, respond, kind, hint }) => {
    const h = await setup(options ?? {});
    if (respond) h.fake.script({ respond });
    const r = await ask(h, '你好');
    expect(r.error?.kind).toBe(kind);
    expect(r.error?.hint).toBe(hint);
    expect(h.fake.calls).toBe(1);
    const failures = records(h, 'model ask failed');
    expect(failures).toHaveLength(1);
    const level = kind === 'rejected' ? 'warn' : 'error';
    expect(failures[0]).toMatchObject({ level, kind, status: r.error?.status, attempts: 1 });
    expect(failures[0]!.hint).toBe(hint);
  });
});

describe('OpenAI-compatible backend: secrets', () => {
  it('never logs the API key, at any level, on success, retry or failure', async () => {
    const h = await setup();
    h.fake.script({ respond: openAiErrors.serverError() }, {}, { respond: openAiErrors.badKey() });
    expect((await ask(h, '一')).answer).toBeDefined();
    expect((await ask(h, '二')).error?.kind).toBe('auth');
    const bad = await setup({ apiKey: `${KEY}-wrong` });
    await ask(bad, '三');
    const lines = [...h.logs.lines, ...bad.logs.lines];
    expect(lines.some((l) => l.includes('"level":"debug"'))).toBe(true);
    expect(lines.some((l) => l.includes('"level":"error"'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(KEY);
  });
});

describe('OpenAI-compatible backend: deadline and cancellation', () => {
  it('a model that never answers times out at the deadline', async () => {
    const h = await setup({ timeouts: { firstByteMs: 5_000, idleMs: 5_000 } });
    h.fake.script({ hang: true });
    const r = await ask(h, '你好', { deadlineMs: 600 });
    expect(r.error?.kind).toBe('timeout');
    expect(r.ms).toBeGreaterThanOrEqual(550);
    expect(r.ms).toBeLessThan(900);
  });

  it('a first-byte timeout is retried within the deadline', async () => {
    const h = await setup({ timeouts: { firstByteMs: 300, idleMs: 500 } });
    h.fake.script({ hang: true });
    const r = await ask(h, '你好');
    expect(r.answer?.answer).toBe('答：你好（之前0轮）');
    expect(h.fake.calls).toBe(2);
  });

  it("the caller's signal cancels a streaming answer within 200 ms", async () => {
    const h = await setup({ timeouts: { firstByteMs: 5_000, idleMs: 5_000 } });
    h.fake.script({ hangAfterChunks: 1 });
    const controller = new AbortController();
    const pending = ask(h, '你好', { signal: controller.signal, deadlineMs: 3_000 });
    await new Promise((r) => setTimeout(r, 150));
    const aborted = Date.now();
    controller.abort();
    const r = await pending;
    expect(r.error?.kind).toBe('cancelled');
    expect(Date.now() - aborted).toBeLessThan(200);
    expect(h.fake.calls).toBe(1);
  });

  it("the caller's signal cancels a backoff wait", async () => {
    const h = await setup();
    h.fake.script({ respond: openAiErrors.rateLimited({ 'retry-after': '2' }) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const r = await ask(h, '你好', { signal: controller.signal, deadlineMs: 3_000 });
    expect(r.error?.kind).toBe('cancelled');
    expect(r.ms).toBeLessThan(450);
  });
});
