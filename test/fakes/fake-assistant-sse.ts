import type http from 'node:http';
import { sleep } from './fake-http-server.js';

/**
 * Writes DingTalk's run stream the way the reference (§2.4) shows it: `event:`/`data:` with no
 * space after the colon, each event in several TCP chunks, one split inside a CJK character.
 */
export class SseWriter {
  /** Events fully written so far. */
  written = 0;

  constructor(
    private readonly res: http.ServerResponse,
    /** Standard SSE ends each event with a blank line; the doc sample shows none. */
    private readonly blankLines: boolean,
  ) {}

  open(): void {
    // The real Content-Type is undocumented; text/event-stream is the usual one.
    this.res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8', 'cache-control': 'no-cache' });
    this.res.flushHeaders();
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  async event(name: string, data: unknown): Promise<void> {
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    const text = `event:${name}\ndata:${payload}\n${this.blankLines ? '\n' : ''}`;
    for (const piece of splitForWire(Buffer.from(text, 'utf8'))) {
      if (this.closed) return;
      this.res.write(piece);
      await sleep(1);
    }
    this.written++;
  }

  end(): void {
    if (!this.closed) this.res.end();
  }

  /** Cuts the connection mid-stream (no terminating chunk), like a dropped TCP connection. */
  cut(): void {
    this.res.destroy();
  }
}

/** Splits a buffer in 2–3 pieces; when it holds multi-byte UTF-8, one cut lands inside a character. */
export function splitForWire(buf: Buffer): Buffer[] {
  const cuts = new Set<number>();
  const lead = buf.findIndex((b) => b >= 0xc0);
  if (lead >= 0) cuts.add(lead + 1);
  if (buf.length > 8) cuts.add(Math.floor(buf.length / 2));
  const points = [...cuts].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    pieces.push(buf.subarray(start, p));
    start = p;
  }
  pieces.push(buf.subarray(start));
  return pieces;
}

/**
 * The delta texts for a final text, in `pieces` steps (default 3). `overwrite`: growing prefixes,
 * one with a transient `&&Next` suffix that the next delta removes, and the final text repeated
 * (as in the doc sample). `append`: consecutive pieces.
 */
export function planDeltas(text: string, mode: 'overwrite' | 'append', pieces = 3): string[] {
  const chars = Array.from(text);
  const n = Math.max(1, Math.min(pieces, chars.length));
  const cuts = Array.from({ length: n + 1 }, (_, i) => Math.floor((i * chars.length) / n));
  const parts = cuts.slice(1).map((end, i) => chars.slice(cuts[i], end).join(''));
  if (mode === 'append') return parts.filter((p) => p !== '');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join(''));
  // The doc sample: the second prefix first appears with a transient suffix.
  const withMarker = prefixes.length > 2 ? [prefixes[0]!, `${prefixes[1]}&&Next`, ...prefixes.slice(1)] : prefixes;
  return [...withMarker, text];
}
