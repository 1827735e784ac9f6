import { AssistantError, type AssistantErrorKind } from '../../errors.js';
import type { Logger } from '../../logger.js';

/** Kinds only the operator can fix: logged at error so they stand out. */
const OPERATOR_KINDS: ReadonlySet<AssistantErrorKind> = new Set(['auth', 'config', 'quota']);

/**
 * Logs a failed question once, with what the operator needs (kind, status, upstream code,
 * hint, attempts) and nothing of the question, and returns the error to throw.
 */
export function logAskFailure(log: Logger, err: unknown, fields: Record<string, unknown>): AssistantError {
  const error =
    err instanceof AssistantError ? err : new AssistantError('failed', 'model call failed (internal)', { cause: err });
  const level = error.kind === 'cancelled' ? 'info' : OPERATOR_KINDS.has(error.kind) ? 'error' : 'warn';
  log.log(level, 'model ask failed', {
    kind: error.kind,
    status: error.status,
    upstreamCode: error.upstreamCode,
    hint: error.hint,
    detail: error.message,
    ...fields,
  });
  return error;
}
