import { quotaReachedText } from '../chat/chat-texts.js';
import type { NoticeMemory } from '../storage/notice-memory.js';
import type { QuotaStore } from '../storage/quota-store.js';
import type { Asker } from './asker.js';
import type { CheckInput, Pass, QuestionCheck, Stop } from './question-check.js';

const DAY_MS = 24 * 60 * 60_000;

/**
 * STUDENT_DAILY_QUOTA: questions per student per school day (SCHOOL_TIMEZONE), counted
 * durably. The last check, so a question refused for another reason does not count. At the
 * limit the student is told once that day when it resets; teachers have no quota.
 */
export class QuotaCheck implements QuestionCheck {
  readonly name = 'quota';

  constructor(
    private readonly limit: number,
    private readonly quotas: QuotaStore,
    private readonly notices: NoticeMemory,
  ) {}

  appliesTo(asker: Asker): boolean {
    return this.limit > 0 && asker.role === 'student' && asker.transport === 'chat';
  }

  async check({ asker, now, time }: CheckInput): Promise<Stop | Pass> {
    const day = time.date;
    if (await this.quotas.take(asker.subject, day, this.limit)) {
      return { undo: () => this.quotas.giveBack(asker.subject, day) };
    }
    const first = await this.notices.claim(`quota:${asker.subject}:${day}`, now + DAY_MS, now);
    return { outcome: 'quota', reply: first ? quotaReachedText(this.limit) : undefined };
  }
}
