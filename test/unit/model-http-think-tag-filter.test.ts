import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerText } from '../../src/backends/model-http/answer-text.js';
import { ThinkTagFilter } from '../../src/backends/model-http/think-tag-filter.js';

function clean(chunks: readonly string[]): string {
  const f = new ThinkTagFilter();
  for (const c of chunks) f.push(c);
  f.end();
  return f.visible;
}

/** Every way of cutting `text` in two, plus one character at a time. */
function splits(text: string): string[][] {
  const out = [Array.from(text)];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe('ThinkTagFilter', () => {
  it.each([
    ['no tags', '你好，同学', '你好，同学'],
    ['a leading block', '<think>推理</think>\n\n答案', '答案'],
    ['blocks in the middle', '甲<think>x</think>乙<think>y</think>丙', '甲乙丙'],
    ['an unclosed block', '前言<think>没有结束', '前言'],
    ['a bare closing tag at the start', '推理过程</think>\n答案', '答案'],
    ['a stray closing tag after a block', '<think>a</think>答</think>案', '答案'],
    ['a lone "<" and a cut-off tag are text', 'a < b 且 c <think', 'a < b 且 c <think'],
    ['text that looks like a tag prefix', '用 <thin 标签', '用 <thin 标签'],
  ])('%s, however the text is split', (_name, text, expected) => {
    for (const chunks of splits(text)) expect(clean(chunks)).toBe(expected);
  });

  it('never shows text of a block while it streams', () => {
    const f = new ThinkTagFilter();
    const seen: string[] = [];
    for (const ch of Array.from('答<think>秘密</think>案')) {
      f.push(ch);
      seen.push(f.visible);
    }
    expect(seen.join('|')).not.toMatch(/秘|<|>/);
  });

  it('the result does not depend on how the text is cut (property)', () => {
    const piece = fc.constantFrom('<think>', '</think>', '<', 'th', 'ink>', '答', 'a', '\n', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }), (parts, cutsRaw) => {
        const text = parts.join('');
        const cuts = [...new Set(cutsRaw.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const chunks: string[] = [];
        let start = 0;
        for (const c of cuts) {
          chunks.push(text.slice(start, c));
          start = c;
        }
        chunks.push(text.slice(start));
        expect(clean(chunks)).toBe(clean([text]));
        expect(clean(chunks)).not.toContain('<think>');
      }),
    );
  });
});

describe('AnswerText', () => {
  it('reports the cleaned text each time it changes, and a replacement', () => {
    const seen: string[] = [];
    const t = new AnswerText((s) => seen.push(s));
    for (const d of ['<thi', 'nk>x</th', 'ink>你', '', '好']) t.append(d);
    t.replace('已替换');
    expect(t.finish()).toBe('已替换');
    expect(seen).toEqual(['你', '你好', '已替换']);
  });

  it('a throwing listener does not lose the answer', () => {
    const t = new AnswerText(() => {
      throw new Error('card update failed');
    });
    t.append('答案');
    expect(t.finish()).toBe('答案');
  });
});
