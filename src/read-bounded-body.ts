import type { Readable } from 'node:stream';

export interface BoundedBody {
  readonly text: string;
  /** The body was longer than `maxBytes`: `text` is its start, the rest was not read. */
  readonly overflow: boolean;
}

export interface BoundedBodyOptions {
  readonly maxBytes: number;
  /** Ends the read after this long (a body that trickles); what arrived is kept. */
  readonly timeoutMs?: number;
  /** A transfer failure ends the read with what arrived instead of throwing (error bodies). */
  readonly keepPartial?: boolean;
}

/**
 * Reads a response body as UTF-8 text, never more than `maxBytes` of it, then destroys the
 * stream: error bodies of upstream calls, and whole answers of model services.
 */
export async function readBoundedBody(body: Readable, options: BoundedBodyOptions): Promise<BoundedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => body.destroy(), options.timeoutMs);
  try {
    for await (const chunk of body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      if (size + buf.length > options.maxBytes) {
        chunks.push(buf.subarray(0, options.maxBytes - size));
        overflow = true;
        break;
      }
      chunks.push(buf);
      size += buf.length;
    }
  } catch (err) {
    if (!options.keepPartial) throw err;
  } finally {
    clearTimeout(timer);
    body.destroy();
  }
  return { text: Buffer.concat(chunks).toString('utf8'), overflow };
}
