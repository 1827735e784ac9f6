import { AssistantError, type AssistantErrorKind } from '../../errors.js';

export interface ModelCallErrorExtra {
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
  readonly upstreamCode?: string;
  readonly status?: number;
  readonly hint?: string;
  readonly cause?: unknown;
}

/**
 * An `AssistantError` that also says whether trying again may help and how long the model
 * service asked us to wait. Escaping as it is, it still reads as its kind.
 */
export class ModelCallError extends AssistantError {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(kind: AssistantErrorKind, detail: string, extra: ModelCallErrorExtra = {}) {
    super(kind, detail, extra);
    this.retryable = extra.retryable ?? false;
    this.retryAfterMs = extra.retryAfterMs;
  }
}

export function isRetryable(err: unknown): err is ModelCallError {
  return err instanceof ModelCallError && err.retryable;
}

/** A short, provider-text-free error message: what failed and a code or status. */
export function describeFailure(what: string, code: string | undefined, status: number | undefined): string {
  const tag = code ? safeCode(code) : status !== undefined ? `HTTP ${status}` : 'network';
  return `${what} (${tag})`;
}

/** Codes are identifiers; anything else (a sentence, a long text) is cut down. */
function safeCode(code: string): string {
  return /^[\w.:-]{1,64}$/.test(code) ? code : code.replace(/[^\w.:-]+/g, '_').slice(0, 64);
}
