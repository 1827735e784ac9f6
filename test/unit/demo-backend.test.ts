import { describe, expect, it } from 'vitest';
import type { AskInput, BackendState } from '../../src/backends/assistant-backend.js';
import { createDemoBackend, prefixes } from '../../src/backends/demo/demo-backend.js';
import { AssistantError } from '../../src/errors.js';

const backend = createDemoBackend({ stepMs: 1 });

function input(text: string, state?: BackendState, extra: Partial<AskInput> = {}): AskInput {
  return { text, state, user: 'pseudonym', deadline: Date.now() + 5_000, ...extra };
}

describe('the demo backend', () => {
  it('says plainly it is the demo, in Chinese and English, and names the three OPENAI variables', async () => {
    const { answer } = await backend.ask(input('什么是光合作用？'));
    expect(answer).toContain('演示模式');
    expect(answer).toContain('Demo mode');
    expect(answer).toMatch(/没有连接真正的 AI 模型/);
    expect(answer).toMatch(/no real AI model is connected/);
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL']) expect(answer).toContain(name);
    expect(answer).toContain('> 什么是光合作用？');
  });

  it('is deterministic: the same conversation and question give the same answer', async () => {
    const a = await backend.ask(input('Why is the sky blue?', { questions: 2, lastQuestion: 'hi' }));
    const b = await backend.ask(input('Why is the sky blue?', { questions: 2, lastQuestion: 'hi' }));
    expect(a).toEqual(b);
  });

  it('keeps its own state: a follow-up knows the previous question; no state (after /new) starts at 1', async () => {
    const first = await backend.ask(input('第一个问题'));
    expect(first.answer).toContain('第 1 个问题');
    expect(first.state).toEqual({ questions: 1, lastQuestion: '第一个问题' });
    const second = await backend.ask(input('second question', first.state));
    expect(second.answer).toContain('第 2 个问题，你上一个问题是「第一个问题」');
    expect(second.answer).toContain('your previous question was "第一个问题"');
    const afterReset = await backend.ask(input('again', undefined));
    expect(afterReset.answer).toContain('第 1 个问题');
    // A state written by something else is read defensively, not trusted.
    expect((await backend.ask(input('x', { questions: 'many' }))).answer).toContain('第 1 个问题');
  });

  it('streams the answer through onText in several growing steps ending with the whole answer', async () => {
    const seen: string[] = [];
    const { answer } = await backend.ask(input('hello', undefined, { onText: (t) => seen.push(t) }));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.startsWith(seen[i - 1]!)).toBe(true);
      expect(seen[i]!.length).toBeGreaterThan(seen[i - 1]!.length);
    }
    expect(seen.at(-1)).toBe(answer);
  });

  it('writes a long answer when asked for one: long enough for three DingTalk messages', async () => {
    const seen: string[] = [];
    const { answer } = await backend.ask(input('请写一篇长回答', undefined, { onText: (t) => seen.push(t) }));
    expect(answer.length).toBeGreaterThan(7_000);
    expect(answer).toContain('OPENAI_MODEL');
    expect(seen.length).toBeGreaterThanOrEqual(8);
    expect((await backend.ask(input('please write a LONG ANSWER'))).answer.length).toBeGreaterThan(7_000);
  });

  it('fails on request (to show the failure sentence) and honours the deadline and cancellation', async () => {
    await expect(backend.ask(input('演示错误'))).rejects.toMatchObject({ kind: 'unavailable' });
    const slow = createDemoBackend({ stepMs: 200 });
    await expect(slow.ask(input('hi', undefined, { deadline: Date.now() + 50 }))).rejects.toMatchObject({ kind: 'timeout' });
    const controller = new AbortController();
    const asked = slow.ask(input('hi', undefined, { signal: controller.signal }));
    controller.abort();
    const err = await asked.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssistantError);
    expect((err as AssistantError).kind).toBe('cancelled');
  });

  it('passes its health check without any network', async () => {
    await expect(backend.check!({ deadline: Date.now() + 100 })).resolves.toBeUndefined();
    expect(backend.name).toBe('demo');
  });
});

describe('prefixes', () => {
  it('grows to the whole text, cutting at line ends when one is near', () => {
    const text = 'line one\nline two\nline three\nline four';
    const steps = prefixes(text, 3);
    expect(steps.at(-1)).toBe(text);
    expect(steps.slice(0, -1).every((s) => text.startsWith(s) && text[s.length] === '\n')).toBe(true);
    expect(prefixes('short', 5)).toEqual(['s', 'sh', 'sho', 'shor', 'short']);
  });
});
