import type { PolicyStores } from '../policy-stores.js';
import { AUDIT_SCHEMA, SqliteAuditTrail } from './sqlite-audit-trail.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { EXAM_SCHEMA, SqliteExamStore } from './sqlite-exam-store.js';
import { NOTICE_SCHEMA, SqliteNoticeMemory } from './sqlite-notice-memory.js';
import { QUOTA_SCHEMA, SqliteQuotaStore } from './sqlite-quota-store.js';
import { SqliteTranscriptStore, TRANSCRIPT_SCHEMA } from './sqlite-transcript-store.js';

/**
 * Creates the policy tables on `db` (idempotent) and returns the five stores over them.
 * `onWriteError` hears of writes done in the background (quota counts, batched records).
 */
export async function openSqlitePolicyStores(db: SqliteConnection, onWriteError?: (err: unknown) => void): Promise<PolicyStores> {
  await db.exec('cannot create the policy tables', [QUOTA_SCHEMA, EXAM_SCHEMA, NOTICE_SCHEMA, AUDIT_SCHEMA, TRANSCRIPT_SCHEMA].join('\n'));
  return {
    quotas: new SqliteQuotaStore(db, onWriteError),
    exams: await SqliteExamStore.open(db),
    notices: new SqliteNoticeMemory(db),
    audit: new SqliteAuditTrail(db, onWriteError),
    transcripts: new SqliteTranscriptStore(db, onWriteError),
  };
}
