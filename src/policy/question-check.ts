import type { AuditOutcome } from '../storage/audit-trail.js';
import type { Asker } from './asker.js';
import type { SchoolTime } from './school-clock.js';

/** A question as the checks see it, before anything is sent anywhere. */
export interface CheckInput {
  readonly asker: Asker;
  /** The question as written. */
  readonly text: string;
  readonly now: number;
  /** `now` on the school's clock. */
  readonly time: SchoolTime;
}

/** The question goes no further. */
export interface Stop {
  readonly outcome: AuditOutcome;
  /** What to reply (chat wording); undefined: stay silent, the notice was given before. */
  readonly reply?: string;
  /** Work that finishes after the reply went out (a counsellor alert); never rejects. */
  readonly afterReply?: Promise<void>;
}

/** The question may go on; `undo` gives back what the check took (a quota question) if it then fails. */
export interface Pass {
  readonly undo: () => Promise<void>;
}

/**
 * One rule of school policy, in its own file. Checks run in a fixed order; the first Stop wins.
 */
export interface QuestionCheck {
  readonly name: string;
  /** Whether the rule concerns this asker at all (quiet hours: students in chat). */
  appliesTo(asker: Asker): boolean;
  check(input: CheckInput): Promise<Stop | Pass | undefined>;
}

export function isStop(verdict: Stop | Pass | undefined): verdict is Stop {
  return verdict !== undefined && 'outcome' in verdict;
}
