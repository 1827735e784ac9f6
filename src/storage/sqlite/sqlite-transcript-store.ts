import type { TranscriptEntry, TranscriptStore } from '../transcript-store.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { rowsBetween } from './sqlite-pages.js';

export const TRANSCRIPT_SCHEMA = `
  CREATE TABLE IF NOT EXISTS transcripts (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    conversation TEXT NOT NULL,
    group_name TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS transcripts_at ON transcripts (at);`;

const COLUMNS = 'id, at, user, role, conversation, group_name, question, answer';

interface TranscriptRow {
  r: number;
  id: string;
  at: number;
  user: string;
  role: TranscriptEntry['role'];
  conversation: TranscriptEntry['conversation'];
  group_name: string | null;
  question: string;
  answer: string;
}

/** Review-period transcripts in their own table (deleted securely by the purge). */
export class SqliteTranscriptStore implements TranscriptStore {
  constructor(private readonly db: SqliteConnection) {}

  async append(t: TranscriptEntry): Promise<void> {
    await this.db.run(
      'writing a transcript failed',
      `INSERT INTO transcripts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [t.id, t.at, t.user, t.role, t.conversation, t.groupName ?? null, t.question, t.answer],
    );
  }

  async *between(from: number, to: number): AsyncIterable<TranscriptEntry> {
    for await (const row of rowsBetween<TranscriptRow>(this.db, 'transcripts', COLUMNS, from, to)) {
      const { r: _r, group_name, ...rest } = row;
      yield { ...rest, ...(group_name !== null && { groupName: group_name }) };
    }
  }

  deleteBefore(before: number): Promise<number> {
    return this.db.run('purging transcripts failed', 'DELETE FROM transcripts WHERE at < ?', [before]);
  }
}
