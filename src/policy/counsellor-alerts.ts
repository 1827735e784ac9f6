import type { DirectMessenger } from '../chat/direct-messenger.js';
import { counsellorAlertText } from '../chat/chat-texts.js';
import type { Logger } from '../logger.js';
import type { NoticeMemory } from '../storage/notice-memory.js';
import type { Asker } from './asker.js';
import type { SchoolClock } from './school-clock.js';

/** One alert per student per this interval: a student writing several alarming lines is one case. */
export const ALERT_INTERVAL_MS = 30 * 60_000;

export interface CounsellorAlertsOptions {
  /** COUNSELLOR_USERS (staff ids). */
  readonly counsellors: readonly string[];
  /** CRISIS_SHARE_TEXT: include the student's words in the alert. */
  readonly shareText: boolean;
  readonly messenger?: DirectMessenger;
  readonly notices: NoticeMemory;
  readonly clock: SchoolClock;
  readonly logger: Logger;
}

/**
 * Tells the school's counsellors, by a direct message from the robot, who wrote something
 * alarming, where and when. Rate-limited per student; a failure is never silent (logged at
 * error level, naming the counsellors not reached).
 */
export class CounsellorAlerts {
  constructor(private readonly options: CounsellorAlertsOptions) {}

  /** True when counsellors are configured (someone will be told). */
  get configured(): boolean {
    return this.options.counsellors.length > 0 && this.options.messenger !== undefined;
  }

  /** Alerts the counsellors about `asker` unless they were alerted recently. Never rejects. */
  async raise(asker: Asker, text: string, now: number, log: Logger): Promise<void> {
    const { counsellors, messenger, notices } = this.options;
    if (!this.configured || !messenger) {
      log.warn('crisis phrase matched; no COUNSELLOR_USERS to alert');
      return;
    }
    try {
      if (!(await notices.claim(`crisis:${asker.subject}`, now + ALERT_INTERVAL_MS, now))) {
        log.info('crisis phrase matched; counsellors were alerted about this asker recently');
        return;
      }
      const { undelivered } = await messenger.sendDirect(counsellors, this.message(asker, text, now));
      if (undelivered.length === counsellors.length) {
        log.error('crisis alert reached no counsellor; check COUNSELLOR_USERS', { undelivered });
      } else if (undelivered.length > 0) {
        log.error('crisis alert did not reach every counsellor; check COUNSELLOR_USERS', { undelivered });
      } else {
        log.warn('crisis phrase matched; counsellors alerted', { counsellors: counsellors.length });
      }
    } catch (err) {
      log.error('crisis alert could not be sent to the counsellors', { err: String(err), counsellors });
    }
  }

  private message(asker: Asker, text: string, now: number): string {
    const who = asker.person
      ? `${asker.role === 'teacher' ? '老师' : '学生'} ${asker.person.name ?? ''}（工号 staff id ${asker.person.id}）`.replace('  ', ' ')
      : '一位网页问答用户（无法识别身份 · an anonymous web user）';
    const where =
      asker.conversation === 'group'
        ? `群「${asker.groupName ?? asker.groupId ?? ''}」中`
        : asker.conversation === 'dm'
          ? '与机器人的私聊中'
          : '学校网页问答（HTTP 接口）中';
    return counsellorAlertText({
      who,
      where,
      when: `${this.options.clock.describe(now)}（${this.options.clock.timeZone}）`,
      text: this.options.shareText ? text : undefined,
    });
  }
}
