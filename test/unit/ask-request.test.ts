import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAskBody } from '../../src/transports/http/ask-request.js';
import { AppError } from '../../src/errors.js';

describe('parseAskBody', () => {
  it('trims, keeps inner text exactly, lower-cases the session id', () => {
    expect(parseAskBody({ question: ' \n a\tb\r\nc \n', sessionId: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', x: 1 })).toEqual({
      question: 'a\tb\r\nc',
      sessionId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
    });
  });

  it('accepts any printable question of 1..2000 characters and refuses everything else with an AppError', () => {
    fc.assert(
      fc.property(fc.anything(), (body) => {
        try {
          const parsed = parseAskBody(body);
          expect(parsed.question.length).toBeGreaterThan(0);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 500 }), (q) => {
        const trimmed = q.trim();
        if (trimmed === '' || /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/.test(trimmed)) return;
        if (/^[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]*$/u.test(trimmed)) return; // nothing visible: empty
        expect(parseAskBody({ question: q }).question).toBe(trimmed);
      }),
      { numRuns: 300 },
    );
  });

  it('a question of only invisible characters is empty (zero-width spaces and joiners, BOM, Hangul fillers, Braille blank)', () => {
    for (const question of ['\u200b', '\u200b\u200c\u200d\u2060', '\ufeff \u3164', '\u115f\u1160\uffa0', '\u2800\u3000', '\u00ad\ufe0f']) {
      expect(() => parseAskBody({ question })).toThrow(expect.objectContaining({ errorName: 'QUESTION_EMPTY' }));
    }
    // Visible text with invisible characters inside is a question, passed on exactly.
    expect(parseAskBody({ question: '\u200b光合作用\u200d?' }).question).toBe('\u200b光合作用\u200d?');
  });
});
