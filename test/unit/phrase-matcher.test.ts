import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhraseMatcher } from '../../src/policy/phrase-matcher.js';

describe('PhraseMatcher', () => {
  it('finds Chinese phrases anywhere and English phrases only as whole words', () => {
    const m = new PhraseMatcher(['自残', 'want to die', 'kill myself']);
    expect(m.findIn('我最近总想自残怎么办')).toBe('自残');
    expect(m.findIn('I want to die')).toBe('want to die');
    expect(m.findIn('I want to diet before summer')).toBeUndefined();
    expect(m.findIn('I could kill myselfie sticks')).toBeUndefined();
    expect(m.findIn('I will kill myself.')).toBe('kill myself');
    expect(m.findIn('ok')).toBeUndefined();
  });

  it('ignores case, full-width forms and runs of whitespace', () => {
    const m = new PhraseMatcher(['Kill Myself', 'ＡＢＣ词']);
    expect(m.findIn('I want to KILL\n   myself')).toBe('Kill Myself');
    expect(m.findIn('ｋｉｌｌ　ｍｙｓｅｌｆ')).toBe('Kill Myself');
    expect(m.findIn('xx abc词 yy')).toBe('ＡＢＣ词');
  });

  it('handles overlapping phrases and phrases inside others (the automaton follows fail links)', () => {
    const m = new PhraseMatcher(['he', 'she', 'his', 'hers', '不想活', '想活']);
    expect(m.findIn('ushers')).toBeUndefined(); // whole words only
    expect(m.findIn('u she rs')).toBe('she');
    const zh = new PhraseMatcher(['活不下去', '不下']);
    expect(zh.findIn('我真的活不下去了')).toBe('不下');
    expect(new PhraseMatcher(['abcd', 'bc']).findIn('x abce')).toBeUndefined();
    expect(new PhraseMatcher(['在割腕', '割腕了']).findIn('我割腕了')).toBe('割腕了');
  });

  it('ignores empty and duplicate phrases', () => {
    const m = new PhraseMatcher(['', '  ', 'x', 'x', 'X ']);
    expect(m.size).toBe(1);
    expect(new PhraseMatcher([]).findIn('anything')).toBeUndefined();
  });

  it('scans a growing text incrementally with the same verdicts as one pass, and starts over when the text does', () => {
    const terms = ['禁词', 'bad word', 'xyz', '坏'];
    const m = new PhraseMatcher(terms);
    fc.assert(
      fc.property(fc.array(fc.constantFrom('禁', '词', 'bad', ' ', 'word', 'x', 'y', 'z', '好', 'a', '坏'), { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (pieces, step) => {
        const text = pieces.join('');
        const scan = m.scanner();
        let found: string | undefined;
        for (let end = step; end < text.length + step; end += step) found = scan.feed(text.slice(0, Math.min(end, text.length))) ?? found;
        found ??= scan.finish();
        expect(found === undefined).toBe(m.findIn(text) === undefined);
      }),
      { numRuns: 300 },
    );
    const scan = m.scanner();
    expect(scan.feed('a 禁词')).toBe('禁词');
    expect(scan.feed('ok')).toBeUndefined(); // the writer started over
  });

  it('holds a streamed English phrase until its word edge is known', () => {
    const scan = new PhraseMatcher(['want to die']).scanner();
    expect(scan.feed('I want to die')).toBeUndefined();
    expect(scan.undecided).toBe(true);
    expect(scan.feed('I want to diet')).toBeUndefined();
    expect(scan.undecided).toBe(false);
    const end = new PhraseMatcher(['want to die']).scanner();
    end.feed('I want to die');
    expect(end.finish()).toBe('want to die');
  });

  it('matches a thousand terms in one pass', () => {
    const terms = Array.from({ length: 1000 }, (_, i) => `词${i.toString(36)}条${i}`);
    const m = new PhraseMatcher(terms);
    expect(m.size).toBe(1000);
    expect(m.findIn(`${'正常的文字'.repeat(200)}${terms[999]}`)).toBe(terms[999]);
    expect(m.findIn(`a${terms[0]}。`)).toBe(terms[0]);
    expect(m.findIn(`${terms[0]}9`)).toBeUndefined(); // "…条0" followed by a digit is another number
    expect(m.findIn('正常的文字'.repeat(400))).toBeUndefined();
  });
});
