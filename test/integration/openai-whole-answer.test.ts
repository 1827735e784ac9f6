import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readCompletionJson } from '../../src/backends/openai/completion-json.js';
import { ask, closeHarnesses, converse, setup, SYSTEM, turnsOf } from '../helpers/openai-backend-harness.js';

/**
 * A server that answers `stream: true` with one `chat.completion` object (some self-hosted
 * gateways and proxies), and the operator's `{"stream": false}` in OPENAI_EXTRA_BODY: the answer
 * is read whole, cleaned and capped like a streamed one, and the conversation goes on.
 */
afterEach(closeHarnesses);

describe('OpenAI-compatible backend: a whole JSON answer instead of a stream', () => {
  it('reads the answer, its usage and its finish, reports the text once, and keeps the turn', async () => {
    const h = await setup();
    h.fake.script({ ignoreStream: true });
    const r = await ask(h, '光合作用是什么？');
    expect(h.fake.bodies[0]).toMatchObject({ stream: true });
    expect(r.error).toBeUndefined();
    expect(r.answer?.answer).toBe('答：光合作用是什么？（之前0轮）');
    expect(r.texts).toEqual([r.answer!.answer]);
    expect(r.answer?.usage).toEqual({ promptTokens: SYSTEM.length + 8, completionTokens: r.answer!.answer.length });
    expect(h.fake.calls).toBe(1);
    expect(turnsOf(r.answer!.state)).toHaveLength(1);
  });

  it('with "stream": false from OPENAI_EXTRA_BODY every question is answered whole, follow-ups included', async () => {
    const h = await setup({ extraBody: { stream: false } });
    const last = await converse(h, ['一', '二', '三']);
    expect(h.fake.bodies.map((b) => b.stream)).toEqual([false, false, false]);
    expect(h.fake.bodies[0]).not.toHaveProperty('stream_options'); // OpenAI refuses it without a stream
    expect(last.answer?.answer).toBe('答：三（之前2轮）');
  });

  it('strips <think> reasoning from a whole answer', async () => {
    const h = await setup();
    h.fake.script({ ignoreStream: true, text: '<think>let me see</think>答案是 42' });
    expect((await ask(h, '?')).answer?.answer).toBe('答案是 42');
  });

  it('content_filter is blocked, an error object is classified, an object without content fails', async () => {
    const h = await setup();
    h.fake.script({ ignoreStream: true, finishReason: 'content_filter' });
    expect((await ask(h, 'a')).error?.kind).toBe('blocked');
    h.fake.script({ respond: { status: 200, body: { error: { code: 'data_inspection_failed', message: 'Output data may contain inappropriate content.' } } } });
    expect((await ask(h, 'b')).error?.kind).toBe('blocked');
    h.fake.script({ respond: { status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } } });
    const empty = await ask(h, 'c');
    expect(empty.error?.kind).toBe('failed');
    expect(empty.texts).toEqual([]);
  });
});

describe('a whole JSON answer larger than the limit', () => {
  it('fails without keeping it, and stops reading', async () => {
    const content = 'x'.repeat(200_000);
    const text = JSON.stringify({ choices: [{ message: { role: 'assistant', content }, finish_reason: 'stop' }] });
    const body = Readable.from([text.slice(0, 100_000), text.slice(100_000)]);
    const res = { status: 200, headers: { 'content-type': 'application/json' }, body, setIdleTimeout: () => undefined };
    await expect(readCompletionJson(res, undefined, 150_000)).rejects.toMatchObject({ kind: 'failed', message: expect.stringContaining('larger than the limit') });
    expect(body.destroyed).toBe(true);
    await expect(readCompletionJson({ ...res, body: Readable.from([text]) }, undefined, 300_000)).resolves.toMatchObject({ answer: expect.stringMatching(/^x+/) });
  });
});

