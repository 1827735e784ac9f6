import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageSplitter, splitMessage, sizeOf } from '../../src/replies/dingtalk-markdown/split-message.js';
import { segmentsOf } from '../../src/replies/dingtalk-markdown/markdown-segments.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const chars = (max: number) => ({ maxChars: max });

// Text made of words, sentences, paragraphs, CJK and emoji (surrogate pairs).
const piece = fc.oneof(
  fc.constantFrom('物理', '动量守恒。', 'Newton. ', 'Why? ', '😀', '👩‍🔬', '\n', '\n\n', ' ', 'a', '!', '"', '\\'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const text = fc.array(piece, { maxLength: 200 }).map((a) => a.join('')).filter((t) => !/^[ \t]*(```|~~~)/m.test(t));

/** Whether a part leaves a fenced code block open (it must never). */
const leavesFenceOpen = (part: string) => segmentsOf(part).some((s) => s.kind === 'code' && !s.closed);

describe('splitMessage', () => {
  it('returns a short text unchanged', () => {
    expect(splitMessage('hello\n\nworld', chars(100))).toEqual(['hello\n\nworld']);
  });

  it('cuts between paragraphs, then sentences, then hard', () => {
    const a = 'A'.repeat(30);
    expect(splitMessage(`${a}\n\n${a}`, chars(40))).toEqual([`${a}\n\n`, a]);
    expect(splitMessage('One two. Three four. Five.', chars(12))).toEqual(['One two. ', 'Three four. ', 'Five.']);
    expect(splitMessage('物理学是研究物质运动。化学研究变化！', chars(11))).toEqual(['物理学是研究物质运动。', '化学研究变化！']);
    expect(splitMessage('x'.repeat(25), chars(10))).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('never splits a surrogate pair', () => {
    const parts = splitMessage('😀'.repeat(9), chars(5));
    for (const p of parts) expect(LONE_SURROGATE.test(p)).toBe(false);
    expect(parts.join('')).toBe('😀'.repeat(9));
  });

  it('counts JSON-escaped UTF-8 bytes when a byte budget is given', () => {
    const parts = splitMessage('中'.repeat(10), { maxChars: 100, maxJsonBytes: 9 });
    expect(parts).toEqual(['中中中', '中中中', '中中中', '中']);
    expect(sizeOf('"\\\n中😀')).toEqual({ chars: 6, bytes: 2 + 2 + 2 + 3 + 4 });
  });

  it('moves a code block whole to the next part instead of cutting it', () => {
    const code = '```js\nconst a = 1;\nconst b = 2;\n```\n';
    const parts = splitMessage(`Intro paragraph here.\n\n${code}\nAfter.`, chars(40));
    expect(parts.some((p) => p.includes(code))).toBe(true);
    for (const p of parts) expect(leavesFenceOpen(p)).toBe(false);
    expect(parts.join('')).toBe(`Intro paragraph here.\n\n${code}\nAfter.`);
  });

  it('a code block longer than a part is cut between lines, its fence closed and reopened', () => {
    const body = Array.from({ length: 12 }, (_, i) => `line_${i} = ${i * i}`).join('\n');
    const parts = splitMessage(`Code:\n\n\`\`\`python\n${body}\n\`\`\`\nDone.`, chars(80));
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(80);
      expect(leavesFenceOpen(p)).toBe(false);
    }
    const codeParts = parts.filter((p) => p.includes('```python'));
    expect(codeParts.length).toBeGreaterThan(1);
    // Every line of the block is shown once, in order, inside a python block.
    const shown = codeParts.flatMap((p) => p.split('\n').filter((l) => l.startsWith('line_')));
    expect(shown.join('\n')).toBe(body);
  });

  it('leaves the rest (with a reopened fence) for another budget: first part for a card, rest as messages', () => {
    const body = Array.from({ length: 10 }, (_, i) => `step ${i}`).join('\n');
    const s = new MessageSplitter(`Head.\n\n~~~\n${body}\n~~~\nTail.`);
    const first = s.next(chars(40))!;
    expect(leavesFenceOpen(first)).toBe(false);
    const rest = s.rest();
    expect(rest.startsWith('~~~\n')).toBe(true);
    expect(rest.endsWith('~~~\nTail.')).toBe(true);
    expect(`${first}\n${rest}`.replace(/\n~~~\n~~~\n/, '\n')).toContain('step 9');
  });

  it('an unclosed fence (an answer still being written) counts as code to the end', () => {
    const parts = splitMessage('Text.\n\n```\nx = 1\ny = 2\nz = 3', chars(14));
    for (const p of parts.slice(0, -1)) expect(leavesFenceOpen(p)).toBe(false);
  });

  it('property: parts join to the original, each fits, none is empty, no broken surrogate', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 2, max: 60 }), fc.integer({ min: 8, max: 200 }), (t, max, bytes) => {
        const parts = splitMessage(t, { maxChars: max, maxJsonBytes: bytes });
        expect(parts.join('')).toBe(t);
        for (const p of parts) {
          if (parts.length > 1) expect(p.length).toBeGreaterThan(0);
          const size = sizeOf(p);
          if (Array.from(p).length > 1) {
            expect(size.chars).toBeLessThanOrEqual(max);
            expect(size.bytes).toBeLessThanOrEqual(bytes);
          }
          if (!LONE_SURROGATE.test(t)) expect(LONE_SURROGATE.test(p)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: with code blocks, no part leaves a fence open and every code line is kept', () => {
    const line = fc.stringMatching(/^[a-z =;()0-9]{0,30}$/);
    const block = fc.tuple(fc.constantFrom('```', '~~~', '```ts'), fc.array(line, { maxLength: 12 })).map(([f, ls]) => `${f}\n${ls.join('\n')}\n${f.slice(0, 3)}\n`);
    const doc = fc.array(fc.oneof(block, fc.constantFrom('Some prose.\n', 'More words here.\n\n', '中文段落。\n\n')), { maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(doc, fc.integer({ min: 50, max: 300 }), (t, max) => {
        const parts = splitMessage(t, chars(max));
        for (const p of parts) expect(leavesFenceOpen(p)).toBe(false);
        const codeLines = (s: string) =>
          segmentsOf(s).flatMap((g) =>
            g.kind === 'code' ? g.text.replace(/\n$/, '').split('\n').slice(1, g.closed ? -1 : undefined).filter((l) => l !== '') : [],
          );
        expect(parts.flatMap(codeLines)).toEqual(codeLines(t));
      }),
      { numRuns: 300 },
    );
  });
});
