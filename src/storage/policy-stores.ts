import type { AuditTrail } from './audit-trail.js';
import type { ExamStore } from './exam-store.js';
import type { NoticeMemory } from './notice-memory.js';
import type { QuotaStore } from './quota-store.js';
import type { TranscriptStore } from './transcript-store.js';

/**
 * What school policy keeps in the configured storage. Each is a small port of its own file; a
 * storage adapter (SQLite here, Redis later) implements all five.
 */
export interface PolicyStores {
  readonly quotas: QuotaStore;
  readonly exams: ExamStore;
  readonly notices: NoticeMemory;
  readonly audit: AuditTrail;
  readonly transcripts: TranscriptStore;
}
