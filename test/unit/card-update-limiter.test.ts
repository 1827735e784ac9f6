import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpdateLimiter } from '../../src/replies/dingtalk-ai-card/update-limiter.js';
import { cardContentOf, CARD_MAX_CHARS } from '../../src/replies/dingtalk-ai-card/card-content.js';

describe('UpdateLimiter (process-wide card updates)', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('grants at most 10 per window, the rest as the window slides', async () => {
    const limiter = new UpdateLimiter({ max: 10, windowMs: 1_100 });
    const granted: number[] = [];
    for (let i = 0; i < 25; i++) void limiter.take('update').then(() => granted.push(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(1_050);
    expect(granted).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(100);
    expect(granted).toHaveLength(20);
    await vi.advanceTimersByTimeAsync(1_200);
    expect(granted).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it('serves waiting finals before waiting intermediate updates', async () => {
    const limiter = new UpdateLimiter({ max: 2, windowMs: 1_000 });
    const order: string[] = [];
    for (const name of ['u1', 'u2', 'u3', 'u4']) void limiter.take('update').then(() => order.push(name));
    void limiter.take('final').then(() => order.push('final'));
    await vi.advanceTimersByTimeAsync(1_100);
    expect(order).toEqual(['u1', 'u2', 'final', 'u3']);
    limiter.releaseAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toContain('u4');
  });
});

describe('cardContentOf', () => {
  it('keeps a short answer whole', () => {
    expect(cardContentOf('答案\n\n', '(more)', true)).toEqual({ shown: '答案', rest: '' });
  });

  it('an answer longer than a card: the first part (never inside a code block) plus a note once final, the rest after', () => {
    const code = `\`\`\`\n${'x = 1\n'.repeat(100)}\`\`\``;
    const text = `${'段落一。'.repeat(600)}\n\n${code}\n\n结尾。`;
    const streaming = cardContentOf(text, '(续)', false);
    const final = cardContentOf(text, '(续)', true);
    expect(streaming.shown).toBe('段落一。'.repeat(600));
    expect(final.shown).toBe(`${'段落一。'.repeat(600)}\n\n(续)`);
    expect(final.shown.length).toBeLessThanOrEqual(CARD_MAX_CHARS);
    expect(final.rest.startsWith(code)).toBe(true);
  });
});
