import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitMessage } from '../../src/replies/dingtalk-markdown/split-message.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const fitsChars = (max: number) => (p: string) => p.length <= max;

// Text made of words, sentences, paragraphs, CJK and emoji (surrogate pairs).
const piece = fc.oneof(
  fc.constantFrom('物理', '动量守恒。', 'Newton. ', 'Why? ', '😀', '👩‍🔬', '\n', '\n\n', ' ', 'a', '!'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const text = fc.array(piece, { maxLength: 200 }).map((a) => a.join(''));

describe('splitMessage', () => {
  it('returns a short text unchanged', () => {
    expect(splitMessage('hello\n\nworld', fitsChars(100))).toEqual(['hello\n\nworld']);
  });

  it('cuts between paragraphs, then sentences, then hard', () => {
    const a = 'A'.repeat(30);
    expect(splitMessage(`${a}\n\n${a}`, fitsChars(40))).toEqual([`${a}\n\n`, a]);
    expect(splitMessage('One two. Three four. Five.', fitsChars(12))).toEqual(['One two. ', 'Three four. ', 'Five.']);
    expect(splitMessage('物理学是研究物质运动。化学研究变化！', fitsChars(11))).toEqual(['物理学是研究物质运动。', '化学研究变化！']);
    expect(splitMessage('x'.repeat(25), fitsChars(10))).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('never splits a surrogate pair', () => {
    const parts = splitMessage('😀'.repeat(9), fitsChars(5));
    for (const p of parts) expect(LONE_SURROGATE.test(p)).toBe(false);
    expect(parts.join('')).toBe('😀'.repeat(9));
  });

  it('property: parts join to the original, each fits, none is empty, no broken surrogate', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 2, max: 60 }), (t, max) => {
        const parts = splitMessage(t, fitsChars(max));
        expect(parts.join('')).toBe(t);
        for (const p of parts) {
          if (parts.length > 1) expect(p.length).toBeGreaterThan(0);
          expect(p.length).toBeLessThanOrEqual(max);
          if (!LONE_SURROGATE.test(t)) expect(LONE_SURROGATE.test(p)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});
