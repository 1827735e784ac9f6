import type { Exam, ExamStore } from '../exam-store.js';
import type { SqliteConnection } from './sqlite-connection.js';

export const EXAM_SCHEMA = `
  CREATE TABLE IF NOT EXISTS policy_exams (
    group_id TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL
  );`;

interface ExamRow {
  group_id: string;
  id: string;
  started_at: number;
  ends_at: number;
}

/** Running exams, one row per group. */
export class SqliteExamStore implements ExamStore {
  constructor(private readonly db: SqliteConnection) {}

  async start(exam: Exam): Promise<void> {
    await this.db.run(
      'starting exam mode failed',
      `INSERT INTO policy_exams (group_id, id, started_at, ends_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET id = excluded.id, started_at = excluded.started_at, ends_at = excluded.ends_at`,
      [exam.groupId, exam.id, exam.startedAt, exam.endsAt],
    );
  }

  async end(groupId: string, now: number): Promise<boolean> {
    const row = await this.db.get<{ ends_at: number }>('ending exam mode failed', 'DELETE FROM policy_exams WHERE group_id = ? RETURNING ends_at', [
      groupId,
    ]);
    return row !== undefined && row.ends_at > now;
  }

  async active(groupId: string, now: number): Promise<Exam | undefined> {
    const row = await this.db.get<ExamRow>(
      'reading exam mode failed',
      'SELECT group_id, id, started_at, ends_at FROM policy_exams WHERE group_id = ? AND ends_at > ?',
      [groupId, now],
    );
    return row && { groupId: row.group_id, id: row.id, startedAt: row.started_at, endsAt: row.ends_at };
  }

  deleteEnded(now: number): Promise<number> {
    return this.db.run('purging ended exams failed', 'DELETE FROM policy_exams WHERE ends_at <= ?', [now]);
  }
}
