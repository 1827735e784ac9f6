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
        expect(parseAskBody({ question: q }).question).toBe(trimmed);
      }),
      { numRuns: 300 },
    );
  });
});
