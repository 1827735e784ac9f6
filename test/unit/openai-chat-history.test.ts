import { describe, expect, it } from 'vitest';
import {
  chatMessages,
  halveHistory,
  historyState,
  nextHistory,
  readHistory,
  replayedTurn,
  trimHistory,
  type Turn,
} from '../../src/backends/openai/chat-history.js';

const turn = (n: number, size = 5): Turn => ({
  q: `q${n}`.padEnd(size, '.'),
  a: `a${n}`.padEnd(size, '.'),
  id: `r${n}`,
});
const turns = (count: number, size = 5) => Array.from({ length: count }, (_, i) => turn(i + 1, size));
const names = (list: readonly Turn[]) => list.map((t) => t.id);

describe('trimHistory', () => {
  it('keeps the newest whole turns, oldest first, within the turn limit', () => {
    expect(names(trimHistory(turns(5), { maxTurns: 3, maxChars: 1_000 }))).toEqual(['r3', 'r4', 'r5']);
  });

  it('keeps the newest whole turns within the character limit (q + a)', () => {
    // Each turn is 10 characters: 25 allows two, never a part of a third.
    expect(names(trimHistory(turns(5), { maxTurns: 10, maxChars: 25 }))).toEqual(['r4', 'r5']);
    expect(names(trimHistory(turns(5), { maxTurns: 10, maxChars: 30 }))).toEqual(['r3', 'r4', 'r5']);
  });

  it('stops at the first turn that does not fit, even if an older one would', () => {
    const list = [turn(1, 2), turn(2, 50), turn(3, 2)];
    expect(names(trimHistory(list, { maxTurns: 10, maxChars: 20 }))).toEqual(['r3']);
  });

  it('zero limits send no history', () => {
    expect(trimHistory(turns(3), { maxTurns: 0, maxChars: 1_000 })).toEqual([]);
    expect(trimHistory(turns(3), { maxTurns: 5, maxChars: 0 })).toEqual([]);
  });
});

describe('nextHistory', () => {
  it('adds the answered turn and trims the same way', () => {
    expect(names(nextHistory(turns(3), turn(4), { maxTurns: 2, maxChars: 1_000 }))).toEqual(['r3', 'r4']);
  });

  it('always keeps the newest turn (a repeated requestId is answered from it)', () => {
    expect(names(nextHistory(turns(3), turn(4, 100), { maxTurns: 5, maxChars: 20 }))).toEqual(['r4']);
    expect(names(nextHistory([], turn(1), { maxTurns: 0, maxChars: 0 }))).toEqual(['r1']);
  });
});

describe('halveHistory', () => {
  it('keeps the newest half, rounding down', () => {
    expect(names(halveHistory(turns(5)))).toEqual(['r4', 'r5']);
    expect(names(halveHistory(turns(4)))).toEqual(['r3', 'r4']);
    expect(halveHistory(turns(1))).toEqual([]);
  });
});

describe('state', () => {
  it('round-trips {v: 1, turns}', () => {
    const list = [{ q: 'x', a: 'y' }, turn(2)];
    expect(historyState(list)).toEqual({ v: 1, turns: list });
    expect(readHistory(historyState(list))).toEqual(list);
  });

  it.each([undefined, {}, { v: 2, turns: [] }, { v: 1, turns: 'no' }, { conversationId: 'c' }])(
    'reads %j as no history',
    (state) => {
      expect(readHistory(state as never)).toEqual([]);
    },
  );

  it('skips malformed turns', () => {
    const state = { v: 1, turns: [null, { q: 1, a: 'b' }, { q: 'q', a: 'a', id: 7 }] };
    expect(readHistory(state)).toEqual([{ q: 'q', a: 'a' }]);
  });

  it('replays only the newest turn with the same requestId', () => {
    expect(replayedTurn(turns(3), 'r3')?.id).toBe('r3');
    expect(replayedTurn(turns(3), 'r2')).toBeUndefined();
    expect(replayedTurn(turns(3), undefined)).toBeUndefined();
    expect(replayedTurn([{ q: 'q', a: 'a' }], undefined)).toBeUndefined();
  });
});

describe('chatMessages', () => {
  it('system prompt, pairs oldest first, the question last', () => {
    expect(chatMessages('sys', [{ q: 'q1', a: 'a1' }, { q: 'q2', a: 'a2' }], 'now')).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'q2' },
      { role: 'assistant', content: 'a2' },
      { role: 'user', content: 'now' },
    ]);
  });

  it('leaves out an empty system prompt', () => {
    expect(chatMessages('  ', [], 'now')).toEqual([{ role: 'user', content: 'now' }]);
  });
});
