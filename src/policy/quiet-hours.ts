import { clockOf, type SchoolTime } from './school-clock.js';

/** QUIET_HOURS, e.g. `22:30-06:30`: minutes since local midnight; may wrap past midnight. */
export interface QuietHours {
  readonly start: number;
  readonly end: number;
}

/** The quiet period a moment falls in. */
export interface QuietPeriod {
  /** Same for every moment of one period (its end instant), so a notice goes out once per period. */
  readonly id: string;
  /** Epoch ms the period ends. */
  readonly endsAt: number;
  /** `HH:MM` local, for "back at 06:30". */
  readonly endsAtClock: string;
}

/** Parses `HH:MM-HH:MM`; a string saying what is wrong otherwise. */
export function parseQuietHours(text: string): QuietHours | string {
  const m = /^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$/.exec(text.trim());
  const minutes = (h: string, mm: string) => (Number(h) < 24 && Number(mm) < 60 ? Number(h) * 60 + Number(mm) : undefined);
  const start = m ? minutes(m[1]!, m[2]!) : undefined;
  const end = m ? minutes(m[3]!, m[4]!) : undefined;
  if (start === undefined || end === undefined) return 'must look like 22:30-06:30 (24-hour clock, school time zone)';
  if (start === end) return 'must name two different times, e.g. 22:30-06:30';
  return { start, end };
}

/** The quiet period `time` (taken at epoch `now`) falls in, or undefined outside quiet hours. */
export function quietPeriodAt(hours: QuietHours, time: SchoolTime, now: number): QuietPeriod | undefined {
  const m = time.minuteOfDay;
  const wraps = hours.start > hours.end;
  const quiet = wraps ? m >= hours.start || m < hours.end : m >= hours.start && m < hours.end;
  if (!quiet) return undefined;
  const minutesLeft = (hours.end - m + 24 * 60) % (24 * 60);
  // Zone offsets are whole minutes, so the local minute starts at the epoch minute.
  const endsAt = Math.floor(now / 60_000) * 60_000 + minutesLeft * 60_000;
  return { id: String(endsAt), endsAt, endsAtClock: clockOf(hours.end) };
}
