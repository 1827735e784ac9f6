import { describe, expect, it } from 'vitest';
import { parseQuietHours, quietPeriodAt } from '../../src/policy/quiet-hours.js';
import { SchoolClock } from '../../src/policy/school-clock.js';

const at = (iso: string) => Date.parse(iso);

describe('SchoolClock', () => {
  it('reads dates and times in the school time zone, not the server zone', () => {
    const clock = new SchoolClock('Asia/Shanghai');
    // 16:30 UTC is 00:30 the next day in Shanghai (UTC+8).
    expect(clock.at(at('2026-03-01T16:30:00Z'))).toEqual({ date: '2026-03-02', minuteOfDay: 30, clock: '00:30' });
    expect(clock.at(at('2026-03-01T15:59:00Z')).date).toBe('2026-03-01');
    expect(new SchoolClock('America/New_York').at(at('2026-07-01T03:00:00Z')).date).toBe('2026-06-30');
    expect(clock.describe(at('2026-03-01T01:05:00Z'))).toBe('2026-03-01 09:05');
  });
});

describe('quiet hours', () => {
  const clock = new SchoolClock('Asia/Shanghai');
  const hours = parseQuietHours('22:30-06:30');
  if (typeof hours === 'string') throw new Error(hours);
  const period = (iso: string) => quietPeriodAt(hours, clock.at(at(iso)), at(iso));

  it('is one period across local midnight, ending at the local end time', () => {
    const evening = period('2026-03-01T14:45:00Z'); // 22:45 local
    const night = period('2026-03-01T18:00:00Z'); // 02:00 local
    const morning = period('2026-03-01T22:29:00Z'); // 06:29 local
    expect(evening).toMatchObject({ endsAtClock: '06:30', endsAt: at('2026-03-01T22:30:00Z') });
    expect(night!.id).toBe(evening!.id);
    expect(morning!.id).toBe(evening!.id);
    expect(period('2026-03-01T22:30:00Z')).toBeUndefined(); // 06:30 local: over
    expect(period('2026-03-01T14:29:00Z')).toBeUndefined(); // 22:29 local: not yet
    expect(period('2026-03-02T14:30:00Z')!.id).not.toBe(evening!.id); // the next night
  });

  it('also works for a period within one day', () => {
    const noon = parseQuietHours('12:00-13:30');
    if (typeof noon === 'string') throw new Error(noon);
    expect(quietPeriodAt(noon, clock.at(at('2026-03-01T04:10:00Z')), at('2026-03-01T04:10:00Z'))).toMatchObject({ endsAtClock: '13:30' });
    expect(quietPeriodAt(noon, clock.at(at('2026-03-01T05:31:00Z')), at('2026-03-01T05:31:00Z'))).toBeUndefined();
  });
});
