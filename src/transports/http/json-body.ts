import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Fastify content-type parser for JSON that refuses invalid UTF-8 instead of silently turning
 * it into U+FFFD, and refuses prototype-polluting keys.
 */
export function parseJsonBody(
  _req: FastifyRequest,
  body: Buffer | string,
  done: (err: Error | null, value?: unknown) => void,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    done(new AppError('QUESTION_INVALID_CHARACTERS', 'body is not valid UTF-8'));
    return;
  }
  if (text.trim().length === 0) {
    done(new AppError('INVALID_JSON', 'empty body'));
    return;
  }
  try {
    done(null, JSON.parse(text, rejectProtoKeys));
  } catch (err) {
    // V8's message quotes the body, which may be a student's question: keep only the position.
    const position = /position (\d+)/.exec(String(err))?.[1];
    done(err instanceof AppError ? err : new AppError('INVALID_JSON', `body is not valid JSON${position ? ` (at position ${position})` : ''}`));
  }
}

function rejectProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor') throw new AppError('INVALID_BODY', `forbidden key ${key}`);
  return value;
}
