import type { Readable } from 'node:stream';

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Reads the (small) body of an error answer as text so it can be classified; a broken or
 * oversized body still leaves the status to map. The body stream carries its own idle and
 * deadline limits (see `streamedPost`), so this cannot hang.
 */
export async function readErrorBody(body: Readable, maxBytes = MAX_ERROR_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buf);
      size += buf.length;
      if (size >= maxBytes) break;
    }
  } catch {
    // What arrived is enough; the status decides the rest.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
