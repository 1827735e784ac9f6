/** A moment as the school's wall clock shows it (SCHOOL_TIMEZONE). */
export interface SchoolTime {
  /** `YYYY-MM-DD`, the school's local date: the day a daily quota belongs to. */
  readonly date: string;
  /** Minutes since local midnight (0–1439). */
  readonly minuteOfDay: number;
  /** `HH:MM`, local. */
  readonly clock: string;
}

/**
 * Reads epoch milliseconds in the school's time zone with `Intl.DateTimeFormat`, so days start
 * at the school's midnight whatever zone the server runs in. The clock is injected (tests move it).
 */
export class SchoolClock {
  private readonly format: Intl.DateTimeFormat;
  /** The last minute read: formatting costs tens of microseconds, and most reads share a minute. */
  private cached: { minute: number; time: SchoolTime } | undefined;

  constructor(
    readonly timeZone: string,
    readonly now: () => number = Date.now,
  ) {
    this.format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** The school's wall clock at `at` (default: now). */
  at(at: number = this.now()): SchoolTime {
    // Zone offsets are whole minutes, so one epoch minute is one local minute.
    const minute = Math.floor(at / 60_000);
    if (this.cached?.minute === minute) return this.cached.time;
    const time = this.read(at);
    this.cached = { minute, time };
    return time;
  }

  private read(at: number): SchoolTime {
    const parts: Record<string, string> = {};
    for (const part of this.format.formatToParts(at)) parts[part.type] = part.value;
    const hour = Number(parts.hour) % 24;
    const minute = Number(parts.minute);
    return {
      date: `${parts.year}-${parts.month}-${parts.day}`,
      minuteOfDay: hour * 60 + minute,
      clock: `${pad(hour)}:${pad(minute)}`,
    };
  }

  /** `YYYY-MM-DD HH:MM` local, for messages to staff. */
  describe(at: number = this.now()): string {
    const t = this.at(at);
    return `${t.date} ${t.clock}`;
  }
}

/** True when `timeZone` is an IANA zone this runtime knows (e.g. Asia/Shanghai). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** `HH:MM` of minutes since midnight. */
export function clockOf(minuteOfDay: number): string {
  return `${pad(Math.floor(minuteOfDay / 60) % 24)}:${pad(minuteOfDay % 60)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
