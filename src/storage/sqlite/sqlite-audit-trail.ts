import type { AuditRecord, AuditTrail } from '../audit-trail.js';
import { SqliteAppendBuffer } from './sqlite-append-buffer.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { rowsBetween } from './sqlite-pages.js';

export const AUDIT_SCHEMA = `
  CREATE TABLE IF NOT EXISTS audit_trail (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    transport TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    conversation TEXT NOT NULL,
    group_id TEXT,
    group_name TEXT,
    backend TEXT NOT NULL,
    outcome TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER
  );
  CREATE INDEX IF NOT EXISTS audit_trail_at ON audit_trail (at);`;

const COLUMNS =
  'id, at, transport, user, role, conversation, group_id, group_name, backend, outcome, latency_ms, prompt_tokens, completion_tokens';

interface AuditRow {
  r: number;
  id: string;
  at: number;
  transport: AuditRecord['transport'];
  user: string;
  role: AuditRecord['role'];
  conversation: AuditRecord['conversation'];
  group_id: string | null;
  group_name: string | null;
  backend: string;
  outcome: string;
  latency_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
}

/**
 * The audit trail as one indexed table (metadata only; no question or answer text). Records
 * are written in batches (SqliteAppendBuffer); reading or purging writes the pending ones first.
 */
export class SqliteAuditTrail implements AuditTrail {
  private readonly buffer: SqliteAppendBuffer;

  constructor(
    private readonly db: SqliteConnection,
    onWriteError: (err: unknown) => void = () => undefined,
  ) {
    this.buffer = new SqliteAppendBuffer(db, { into: `INSERT INTO audit_trail (${COLUMNS}) VALUES`, columns: 13, onConflict: 'ON CONFLICT (id) DO NOTHING' }, onWriteError);
  }

  async append(r: AuditRecord): Promise<void> {
    this.buffer.append([
        r.id,
        r.at,
        r.transport,
        r.user,
        r.role,
        r.conversation,
        r.groupId ?? null,
        r.groupName ?? null,
        r.backend,
        r.outcome,
        Math.round(r.latencyMs),
      r.promptTokens ?? null,
      r.completionTokens ?? null,
    ]);
  }

  flush(): Promise<void> {
    return this.buffer.flush();
  }

  async *between(from: number, to: number): AsyncIterable<AuditRecord> {
    await this.buffer.flush();
    for await (const row of rowsBetween<AuditRow>(this.db, 'audit_trail', COLUMNS, from, to)) yield toRecord(row);
  }

  async deleteBefore(before: number): Promise<number> {
    await this.buffer.flush();
    return this.db.run('purging the audit trail failed', 'DELETE FROM audit_trail WHERE at < ?', [before]);
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    transport: row.transport,
    user: row.user,
    role: row.role,
    conversation: row.conversation,
    ...(row.group_id !== null && { groupId: row.group_id }),
    ...(row.group_name !== null && { groupName: row.group_name }),
    backend: row.backend,
    outcome: row.outcome,
    latencyMs: row.latency_ms,
    ...(row.prompt_tokens !== null && { promptTokens: row.prompt_tokens }),
    ...(row.completion_tokens !== null && { completionTokens: row.completion_tokens }),
  };
}
