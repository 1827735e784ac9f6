import { AssistantError, BusyError, StorageError } from '../errors.js';
import type { AuditOutcome } from '../storage/audit-trail.js';

// `cancelled`: the asker went away (an HTTP caller that hung up); not a failure of the service.
const NAMED_KINDS: readonly string[] = ['blocked', 'timeout', 'rate_limited', 'unavailable', 'cancelled'];

/** How a question that could not be answered is named in the audit trail (chat and HTTP alike). */
export function failureOutcome(err: unknown): AuditOutcome {
  if (err instanceof AssistantError) return NAMED_KINDS.includes(err.kind) ? err.kind : 'failed';
  if (err instanceof BusyError) return 'busy';
  if (err instanceof StorageError) return 'unavailable';
  return 'failed';
}
