import { describe, expect, it } from 'vitest';
import { ANSWER_CUT_NOTE, capAnswer } from '../../src/backends/answer-limit.js';
import { createRunStreamState, foldRunEvent, partialAnswer, streamedAnswer } from '../../src/backends/dingtalk-assistant/sse-folder.js';
import { MAX_LINE_CHARS, SseLineSplitter } from '../../src/backends/dingtalk-assistant/sse-lines.js';
import { AnswerText } from '../../src/backends/model-http/answer-text.js';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { answerParts } from '../../src/replies/dingtalk-markdown/answer-parts.js';
import { sizeOf, splitMessage } from '../../src/replies/dingtalk-markdown/split-message.js';

/** Issue 13 item 9, the answer half: a streamed answer stops growing; splitting is linear and bounded in parts. */
const MILLION = 1_000_000;

describe('AnswerText (the OpenAI and Dify backends\' text accumulation)', () => {
  it('keeps at most ANSWER_MAX_CHARS of a 1 M-character stream and ends it with the cut note', () => {
    const reports: number[] = [];
    const text = new AnswerText((soFar) => reports.push(soFar.length), 64_000);
    for (let i = 0; i < 1_000; i++) text.append('a'.repeat(1_000));
    const answer = text.finish();
    expect(text.cut).toBe(true);
    expect(answer).toBe(`${'a'.repeat(64_000)}\n\n${ANSWER_CUT_NOTE}`);
    // Listeners never saw more than the cut answer, and heard nothing once it was cut.
    expect(Math.max(...reports)).toBe(answer.length);
    expect(reports.length).toBeLessThanOrEqual(66);
  });

  it('counts only visible text: reasoning inside <think> never fills the budget', () => {
    const text = new AnswerText(undefined, 1_000);
    text.append('<think>');
    for (let i = 0; i < 100; i++) text.append('r'.repeat(1_000));
    text.append('</think>short answer');
    expect(text.finish()).toBe('short answer');
    expect(text.cut).toBe(false);
  });

  it('a whole-answer replacement (moderation preset) starts the budget again', () => {
    const text = new AnswerText(undefined, 1_000);
    text.append('x'.repeat(5_000));
    text.replace('内容不合规');
    expect(text.finish()).toBe('内容不合规');
  });
});

describe("the DingTalk assistant's SSE folding", () => {
  const delta = (mode: string, value: string) => ({
    event: 'thread.message.delta',
    data: JSON.stringify({ mode, messageId: 'm1', delta: { role: 'assistant', type: 'text', text: { value } } }),
  });

  it('append deltas stop growing the text at the limit', () => {
    const state = createRunStreamState(64_000);
    for (let i = 0; i < 1_000; i++) foldRunEvent(state, delta('append', 'b'.repeat(1_000)));
    expect(state.messages.get('m1')!.text.length).toBe(64_001); // one more marks it as cut
    expect(partialAnswer(state)).toBe(`${'b'.repeat(64_000)}\n\n${ANSWER_CUT_NOTE}`);
  });

  it('overwrite deltas and the completed message are cut too', () => {
    const state = createRunStreamState(10_000);
    foldRunEvent(state, delta('overwrite', 'c'.repeat(500_000)));
    expect(state.messages.get('m1')!.text.length).toBe(10_001);
    foldRunEvent(state, {
      event: 'thread.message.completed',
      data: JSON.stringify({ messageId: 'm1', message: { role: 'assistant', content: 'd'.repeat(MILLION) } }),
    });
    foldRunEvent(state, { event: 'thread.run.completed', data: JSON.stringify({ runId: 'r', statusEnum: 'completed' }) });
    expect(streamedAnswer(state)).toBe(`${'d'.repeat(10_000)}\n\n${ANSWER_CUT_NOTE}`);
  });

  it('refuses an SSE line longer than 1 MiB instead of buffering it', () => {
    const lines = new SseLineSplitter(() => undefined);
    expect(() => {
      for (let i = 0; i <= MAX_LINE_CHARS / 65_536; i++) lines.push(`data:${'e'.repeat(65_536)}`);
    }).toThrow(/longer than/);
  });

  it('capAnswer never splits a surrogate pair', () => {
    const capped = capAnswer('😀'.repeat(10), 5);
    expect(capped.startsWith('😀😀')).toBe(true);
    expect(capped).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('splitting a long answer', () => {
  const budget = { maxChars: 3_400, maxJsonBytes: 13_900 };

  it('splits 1 M characters without punctuation whole, in linear time (a generous bound, not a race)', () => {
    const text = '字'.repeat(MILLION);
    const started = performance.now();
    const parts = splitMessage(text, budget);
    const ms = performance.now() - started;
    expect(parts.join('')).toBe(text);
    expect(parts.every((p) => p.length <= budget.maxChars && sizeOf(p).bytes <= budget.maxJsonBytes)).toBe(true);
    // About 0.3 s on the reference machine; a quadratic split would take minutes.
    expect(ms).toBeLessThan(8_000);
  });

  it('never makes more than ANSWER_MAX_PARTS messages: the last one says the rest was cut', () => {
    const text = 'x'.repeat(MILLION);
    const started = performance.now();
    const parts = answerParts(text, budget, 8, CHAT_TEXTS.answerPartsCut);
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(parts).toHaveLength(8);
    expect(parts.every((p) => p.length <= budget.maxChars && sizeOf(p).bytes <= budget.maxJsonBytes)).toBe(true);
    expect(parts.at(-1)!.endsWith(`\n\n${CHAT_TEXTS.answerPartsCut}`)).toBe(true);
    expect(parts.slice(0, 7).join('')).toBe('x'.repeat(7 * 3_400));
  });

  it('an answer that fits in the parts is split as before, without a note', () => {
    const paragraphs = Array.from({ length: 6 }, (_, i) => `第${i}段：${'物理'.repeat(600)}。`).join('\n\n');
    const parts = answerParts(paragraphs, budget, 8, CHAT_TEXTS.answerPartsCut);
    expect(parts).toEqual(splitMessage(paragraphs, budget).map((p) => p.trim()));
    expect(parts.some((p) => p.includes(CHAT_TEXTS.answerPartsCut))).toBe(false);
  });

  it('keeps the answer\'s short last paragraph (the AI label) after the note when it cuts', () => {
    const label = '（以上内容由人工智能生成 · AI-generated）';
    const parts = answerParts(`${'y'.repeat(50_000)}\n\n${label}`, budget, 2, CHAT_TEXTS.answerPartsCut);
    expect(parts).toHaveLength(2);
    expect(parts[1]!.endsWith(`\n\n${CHAT_TEXTS.answerPartsCut}\n\n${label}`)).toBe(true);
    expect(parts[1]!.length).toBeLessThanOrEqual(budget.maxChars);
  });

  it('keeps a code block closed in the last, cut part', () => {
    const code = `\`\`\`python\n${'print(1)\n'.repeat(4_000)}\`\`\``;
    const parts = answerParts(code, budget, 3, CHAT_TEXTS.answerPartsCut);
    expect(parts).toHaveLength(3);
    for (const p of parts) expect((p.match(/```/g) ?? []).length % 2).toBe(0);
  });
});
