import type { SchoolClock } from '../policy/school-clock.js';
import type { AuditRecord } from '../storage/audit-trail.js';

/** Counts for one slice of the audit trail. */
export interface Tally {
  questions: number;
  answered: number;
  promptTokens: number;
  completionTokens: number;
  latencyMsTotal: number;
}

/** One line of the spreadsheet: a day, role, conversation kind, group and outcome, with counts. */
export interface UsageRow extends Tally {
  readonly date: string;
  readonly role: string;
  readonly conversation: string;
  readonly group: string;
  readonly outcome: string;
}

/** What `npm run report` shows: usage per day, role and group, blocked and crisis counts, failures. */
export interface UsageReport {
  readonly from: string;
  readonly to: string;
  readonly timeZone: string;
  readonly total: Tally;
  readonly byDay: ReadonlyArray<{ date: string; tally: Tally; users: number }>;
  readonly byRole: ReadonlyArray<{ role: string; tally: Tally }>;
  readonly byGroup: ReadonlyArray<{ group: string; tally: Tally }>;
  readonly blocked: number;
  readonly crisis: number;
  /** Outcomes other than answered, most frequent first. */
  readonly notAnswered: ReadonlyArray<{ outcome: string; count: number }>;
  readonly rows: readonly UsageRow[];
}

/**
 * Pure: folds audit records into the report for the school days `from`..`to` (YYYY-MM-DD,
 * inclusive, school time zone). Pseudonyms are only counted (distinct askers per day), never shown.
 */
export async function buildUsageReport(
  records: AsyncIterable<AuditRecord>,
  clock: SchoolClock,
  days: { from: string; to: string },
): Promise<UsageReport> {
  const total = tally();
  const byDay = new Map<string, { tally: Tally; users: Set<string> }>();
  const byRole = new Map<string, Tally>();
  const byGroup = new Map<string, Tally>();
  const outcomes = new Map<string, number>();
  const rows = new Map<string, UsageRow>();
  for await (const r of records) {
    const date = clock.at(r.at).date;
    if (date < days.from || date > days.to) continue;
    const group = r.conversation === 'group' ? (r.groupName ?? r.groupId ?? '?') : '';
    const day = byDay.get(date) ?? { tally: tally(), users: new Set<string>() };
    byDay.set(date, day);
    day.users.add(r.user);
    for (const t of [total, day.tally, entry(byRole, r.role), ...(group ? [entry(byGroup, group)] : [])]) add(t, r);
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    const key = JSON.stringify([date, r.role, r.conversation, group, r.outcome]);
    const row = rows.get(key) ?? { date, role: r.role, conversation: r.conversation, group, outcome: r.outcome, ...tally() };
    rows.set(key, row);
    add(row, r);
  }
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    ...days,
    timeZone: clock.timeZone,
    total,
    byDay: sorted(byDay).map(([date, d]) => ({ date, tally: d.tally, users: d.users.size })),
    byRole: sorted(byRole).map(([role, t]) => ({ role, tally: t })),
    byGroup: [...byGroup.entries()].sort(([, a], [, b]) => b.questions - a.questions).map(([group, t]) => ({ group, tally: t })),
    blocked: outcomes.get('blocked') ?? 0,
    crisis: outcomes.get('crisis') ?? 0,
    notAnswered: [...outcomes.entries()]
      .filter(([o]) => o !== 'answered')
      .sort(([oa, a], [ob, b]) => b - a || oa.localeCompare(ob))
      .map(([outcome, count]) => ({ outcome, count })),
    rows: sorted(rows).map(([, row]) => row),
  };
}

function tally(): Tally {
  return { questions: 0, answered: 0, promptTokens: 0, completionTokens: 0, latencyMsTotal: 0 };
}

function entry(map: Map<string, Tally>, key: string): Tally {
  let t = map.get(key);
  if (!t) map.set(key, (t = tally()));
  return t;
}

function add(t: Tally, r: AuditRecord): void {
  t.questions++;
  if (r.outcome === 'answered') t.answered++;
  t.promptTokens += r.promptTokens ?? 0;
  t.completionTokens += r.completionTokens ?? 0;
  t.latencyMsTotal += r.latencyMs;
}
