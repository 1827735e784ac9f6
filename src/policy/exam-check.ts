import { examInProgressText } from '../chat/chat-texts.js';
import type { ExamStore } from '../storage/exam-store.js';
import type { NoticeMemory } from '../storage/notice-memory.js';
import type { Asker } from './asker.js';
import type { CheckInput, QuestionCheck, Stop } from './question-check.js';
import type { SchoolClock } from './school-clock.js';

/**
 * Exam mode: while a teacher's `/exam on` lasts in a group, students there get "exam in
 * progress" once per exam, then silence. Teachers are served.
 */
export class ExamCheck implements QuestionCheck {
  readonly name = 'exam';

  constructor(
    private readonly exams: ExamStore,
    private readonly notices: NoticeMemory,
    private readonly clock: SchoolClock,
  ) {}

  appliesTo(asker: Asker): boolean {
    return asker.role === 'student' && asker.conversation === 'group' && asker.groupId !== undefined;
  }

  async check({ asker, now }: CheckInput): Promise<Stop | undefined> {
    const exam = await this.exams.active(asker.groupId!, now);
    if (!exam) return undefined;
    const first = await this.notices.claim(`exam:${exam.id}:${asker.subject}`, exam.endsAt, now);
    return { outcome: 'exam', reply: first ? examInProgressText(this.clock.at(exam.endsAt).clock) : undefined };
  }
}
