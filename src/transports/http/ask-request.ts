import { hasVisibleText } from '../../chat/visible-text.js';
import { AppError } from '../../errors.js';

export const MAX_QUESTION_CHARS = 2000;

export interface AskBody {
  /** Trimmed question, exactly as it will reach the assistant. */
  readonly question: string;
  /** The caller's sessionId (lower-case UUID), or undefined for a new session. */
  readonly sessionId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// C0 and C1 controls and DEL, except tab, newline and carriage return.
const FORBIDDEN_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Validates a parsed `/assistant/ask` body. Unknown fields are ignored (and never stored).
 * Pure: throws AppError with the catalogue entry for the first problem found.
 */
export function parseAskBody(body: unknown): AskBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AppError('INVALID_BODY');
  }
  const { question, sessionId } = body as Record<string, unknown>;
  return { question: parseQuestion(question), sessionId: parseSessionId(sessionId) };
}

function parseQuestion(value: unknown): string {
  if (value === undefined || value === null) throw new AppError('QUESTION_EMPTY', 'question is missing');
  if (typeof value !== 'string') throw new AppError('INVALID_BODY', 'question must be a string');
  const question = value.trim();
  if (!hasVisibleText(question)) throw new AppError('QUESTION_EMPTY', 'the question has no visible character');
  if (FORBIDDEN_CONTROLS.test(question) || LONE_SURROGATE.test(question)) {
    throw new AppError('QUESTION_INVALID_CHARACTERS');
  }
  // Count Unicode characters (code points), not UTF-16 units: an emoji is one character.
  let chars = 0;
  for (const _ of question) if (++chars > MAX_QUESTION_CHARS) throw new AppError('QUESTION_TOO_LONG');
  return question;
}

function parseSessionId(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !UUID.test(value)) throw new AppError('SESSION_ID_INVALID');
  return value.toLowerCase();
}
