import { randomUUID } from 'node:crypto';
import {
  CHAT_TEXTS,
  examStartedText,
  quotaGrantedText,
  quotaStatusText,
} from '../chat/chat-texts.js';
import type { Logger } from '../logger.js';
import type { PolicyStores } from '../storage/policy-stores.js';
import type { Asker } from './asker.js';
import type { SchoolClock } from './school-clock.js';

/** A teacher's command: exam mode in a group, a student's quota in a direct chat. */
export type TeacherCommand =
  | { readonly kind: 'exam-on'; readonly minutes: number }
  | { readonly kind: 'exam-off' }
  | { readonly kind: 'quota-show'; readonly staffId: string }
  | { readonly kind: 'quota-grant'; readonly staffId: string; readonly extra: number }
  | { readonly kind: 'usage' };

export const DEFAULT_EXAM_MINUTES = 120;
const MAX_EXAM_MINUTES = 24 * 60;
const MAX_GRANT = 1000;

/**
 * Pure: `/exam on [minutes]`, `/exam off`, `/quota <staffId>`, `/quota <staffId> +N` (full-width
 * slash and plus accepted); any other `/exam…` or `/quota…` is a usage error; other text is not
 * a command (undefined).
 */
export function parseTeacherCommand(text: string): TeacherCommand | undefined {
  const t = text.trim().replace(/^／/, '/').replace(/＋/g, '+').replace(/\s+/g, ' ');
  const m = /^\/(exam|quota)(?:\s|$)(.*)$/i.exec(t);
  if (!m) return undefined;
  const args = m[2]!.trim();
  if (m[1]!.toLowerCase() === 'exam') {
    const on = /^on(?: (\d{1,4}))?$/i.exec(args);
    if (on) {
      const minutes = on[1] === undefined ? DEFAULT_EXAM_MINUTES : Number(on[1]);
      return minutes >= 1 && minutes <= MAX_EXAM_MINUTES ? { kind: 'exam-on', minutes } : { kind: 'usage' };
    }
    return /^off$/i.test(args) ? { kind: 'exam-off' } : { kind: 'usage' };
  }
  const quota = /^(\S+)(?: \+(\d{1,4}))?$/.exec(args);
  if (!quota) return { kind: 'usage' };
  if (quota[2] === undefined) return { kind: 'quota-show', staffId: quota[1]! };
  const extra = Number(quota[2]);
  return extra >= 1 && extra <= MAX_GRANT ? { kind: 'quota-grant', staffId: quota[1]!, extra } : { kind: 'usage' };
}

export interface TeacherCommandsOptions {
  readonly stores: PolicyStores;
  readonly clock: SchoolClock;
  /** STUDENT_DAILY_QUOTA (0 = unlimited). */
  readonly dailyQuota: number;
  /** The pseudonym of a staff id, as the quota is keyed (the same HMAC as for senders). */
  readonly subjectOf: (staffId: string) => string;
  readonly logger: Logger;
}

/** Runs a teacher's command and says what happened; commands never count against a quota. */
export class TeacherCommands {
  constructor(private readonly options: TeacherCommandsOptions) {}

  async run(command: TeacherCommand, asker: Asker): Promise<string> {
    if (asker.role !== 'teacher') return CHAT_TEXTS.teachersOnly;
    if (command.kind === 'usage') return CHAT_TEXTS.commandUsage;
    if (command.kind === 'exam-on' || command.kind === 'exam-off') {
      return asker.conversation === 'group' && asker.groupId ? this.exam(command, asker.groupId) : CHAT_TEXTS.examInGroup;
    }
    if (asker.conversation !== 'dm') return CHAT_TEXTS.quotaInDirectChat;
    return this.quota(command);
  }

  private async exam(command: TeacherCommand & { kind: 'exam-on' | 'exam-off' }, groupId: string): Promise<string> {
    const { stores, clock, logger } = this.options;
    const now = clock.now();
    if (command.kind === 'exam-off') {
      const ended = await stores.exams.end(groupId, now);
      logger.info('exam mode ended by a teacher', { groupId, wasRunning: ended });
      return ended ? CHAT_TEXTS.examEnded : CHAT_TEXTS.examNotRunning;
    }
    const endsAt = now + command.minutes * 60_000;
    await stores.exams.start({ groupId, id: randomUUID(), startedAt: now, endsAt });
    logger.info('exam mode started by a teacher', { groupId, minutes: command.minutes });
    return examStartedText(clock.at(endsAt).clock);
  }

  private async quota(command: TeacherCommand & { kind: 'quota-show' | 'quota-grant' }): Promise<string> {
    const { stores, clock, dailyQuota, subjectOf, logger } = this.options;
    const day = clock.at().date;
    const subject = subjectOf(command.staffId);
    if (command.kind === 'quota-show') {
      const usage = await stores.quotas.usage(subject, day);
      return quotaStatusText(command.staffId, usage.used, dailyQuota, usage.granted);
    }
    await stores.quotas.grant(subject, day, command.extra);
    logger.info('extra questions granted by a teacher', { user: subject, extra: command.extra });
    return quotaGrantedText(command.staffId, command.extra);
  }
}
