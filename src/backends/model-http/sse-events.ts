import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One SSE event line can hold a long answer chunk, never megabytes. */
const MAX_BUFFER_CHARS = 1024 * 1024;
/** How long the rest of a finished stream may take to drain before its socket is dropped. */
const DRAIN_GRACE_MS = 2_000;

/**
 * The SSE events of a response body, in order. Comments (`: keep-alive`) are skipped; UTF-8
 * split across TCP chunks is decoded whole; an event the server did not end with a blank line
 * is still delivered when the stream ends. Failures of the body (idle, deadline, signal, reset)
 * are thrown as they are. Leaving the loop early lets the rest drain so the socket is reused.
 */
export async function* sseEvents(body: Readable): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => queue.push(e), maxBufferSize: MAX_BUFFER_CHARS });
  const decoder = new TextDecoder('utf-8');
  let finished = false;
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
    // Ends a last event the server did not close with a blank line (harmless when it did).
    parser.feed(`${decoder.decode()}\n\n`);
    while (queue.length > 0) yield queue.shift()!;
    finished = true;
  } finally {
    if (!finished) drainInBackground(body);
  }
}

function drainInBackground(body: Readable): void {
  if (body.readableEnded || body.destroyed) return;
  const timer = setTimeout(() => body.destroy(), DRAIN_GRACE_MS);
  timer.unref();
  body.once('close', () => clearTimeout(timer));
  body.on('error', () => undefined);
  body.resume();
}
