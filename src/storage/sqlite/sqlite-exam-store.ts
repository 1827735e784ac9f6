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

/**
 * Running exams, one row per group, mirrored in memory: every student question in a group asks
 * for its exam, and one process owns a SQLite file, so the answer comes from memory without a
 * trip to the database. Writes go to the table first, then to the mirror.
 */
export class SqliteExamStore implements ExamStore {
  private constructor(
    private readonly db: SqliteConnection,
    private readonly running: Map<string, Exam>,
  ) {}

  static async open(db: SqliteConnection): Promise<SqliteExamStore> {
    const rows = await db.all<ExamRow>('reading exam mode failed', 'SELECT group_id, id, started_at, ends_at FROM policy_exams');
    return new SqliteExamStore(db, new Map(rows.map((r) => [r.group_id, toExam(r)])));
  }

  async start(exam: Exam): Promise<void> {
    await this.db.run(
      'starting exam mode failed',
      `INSERT INTO policy_exams (group_id, id, started_at, ends_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET id = excluded.id, started_at = excluded.started_at, ends_at = excluded.ends_at`,
      [exam.groupId, exam.id, exam.startedAt, exam.endsAt],
    );
    this.running.set(exam.groupId, exam);
  }

  async end(groupId: string, now: number): Promise<boolean> {
    await this.db.run('ending exam mode failed', 'DELETE FROM policy_exams WHERE group_id = ?', [groupId]);
    const exam = this.running.get(groupId);
    this.running.delete(groupId);
    return exam !== undefined && exam.endsAt > now;
  }

  async active(groupId: string, now: number): Promise<Exam | undefined> {
    const exam = this.running.get(groupId);
    return exam && exam.endsAt > now ? exam : undefined;
  }

  async deleteEnded(now: number): Promise<number> {
    for (const [groupId, exam] of this.running) if (exam.endsAt <= now) this.running.delete(groupId);
    return this.db.run('purging ended exams failed', 'DELETE FROM policy_exams WHERE ends_at <= ?', [now]);
  }
}

function toExam(row: ExamRow): Exam {
  return { groupId: row.group_id, id: row.id, startedAt: row.started_at, endsAt: row.ends_at };
}
