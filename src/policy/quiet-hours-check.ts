import { quietHoursText } from '../chat/chat-texts.js';
import type { NoticeMemory } from '../storage/notice-memory.js';
import type { Asker } from './asker.js';
import type { CheckInput, QuestionCheck, Stop } from './question-check.js';
import { type QuietHours, quietPeriodAt } from './quiet-hours.js';

/**
 * QUIET_HOURS: students in chat get "resting now, back at 06:30" once per quiet period, then
 * silence until it ends; teachers are served. HTTP callers keep their own rate limit instead.
 */
export class QuietHoursCheck implements QuestionCheck {
  readonly name = 'quiet-hours';

  constructor(
    private readonly hours: QuietHours | undefined,
    private readonly notices: NoticeMemory,
  ) {}

  appliesTo(asker: Asker): boolean {
    return this.hours !== undefined && asker.role === 'student' && asker.transport === 'chat';
  }

  async check({ asker, now, time }: CheckInput): Promise<Stop | undefined> {
    const period = this.hours && quietPeriodAt(this.hours, time, now);
    if (!period) return undefined;
    const first = await this.notices.claim(`quiet:${asker.subject}:${period.id}`, period.endsAt, now);
    return { outcome: 'quiet', reply: first ? quietHoursText(period.endsAtClock) : undefined };
  }
}
