import type { TranscriptEntry, TranscriptStore } from '../transcript-store.js';
import { SqliteAppendBuffer } from './sqlite-append-buffer.js';
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

/** Review-period transcripts in their own table (written in batches; deleted securely by the purge). */
export class SqliteTranscriptStore implements TranscriptStore {
  private readonly buffer: SqliteAppendBuffer;

  constructor(
    private readonly db: SqliteConnection,
    onWriteError: (err: unknown) => void = () => undefined,
  ) {
    this.buffer = new SqliteAppendBuffer(db, { into: `INSERT INTO transcripts (${COLUMNS}) VALUES`, columns: 8, onConflict: 'ON CONFLICT (id) DO NOTHING' }, onWriteError);
  }

  async append(t: TranscriptEntry): Promise<void> {
    this.buffer.append([t.id, t.at, t.user, t.role, t.conversation, t.groupName ?? null, t.question, t.answer]);
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }

  async *between(from: number, to: number): AsyncIterable<TranscriptEntry> {
    await this.buffer.flush();
    for await (const row of rowsBetween<TranscriptRow>(this.db, 'transcripts', COLUMNS, from, to)) {
      const { r: _r, group_name, ...rest } = row;
      yield { ...rest, ...(group_name !== null && { groupName: group_name }) };
    }
  }

  async deleteBefore(before: number): Promise<number> {
    await this.buffer.flush();
    return this.db.run('purging transcripts failed', 'DELETE FROM transcripts WHERE at < ?', [before]);
  }
}
