import type { Readable } from 'node:stream';
import { readBoundedBody } from '../../read-bounded-body.js';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Reads the (small) body of an error answer as text so it can be classified; a broken or
 * oversized body still leaves the status to map. The body stream carries its own idle and
 * deadline limits (see `streamedPost`), so this cannot hang.
 */
export async function readErrorBody(body: Readable, maxBytes = MAX_ERROR_BODY_BYTES): Promise<string> {
  return (await readBoundedBody(body, { maxBytes, keepPartial: true })).text;
}
