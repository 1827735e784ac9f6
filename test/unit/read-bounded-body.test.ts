import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readBoundedBody } from '../../src/read-bounded-body.js';

/** A body that sends `parts`, then fails. */
function failingAfter(...parts: string[]): Readable {
  const body = new PassThrough();
  for (const p of parts) body.write(p);
  setImmediate(() => body.destroy(new Error('socket hang up')));
  return body;
}

describe('readBoundedBody', () => {
  it('reads a whole body, and stops at maxBytes with the start kept and the stream destroyed', async () => {
    expect(await readBoundedBody(Readable.from(['ab', 'cd']), { maxBytes: 10 })).toEqual({ text: 'abcd', overflow: false });
    const long = Readable.from(['abcdef', 'ghij', 'klmn']);
    expect(await readBoundedBody(long, { maxBytes: 8 })).toEqual({ text: 'abcdefgh', overflow: true });
    expect(long.destroyed).toBe(true);
  });

  it('a transfer failure throws, or with keepPartial ends the read with what arrived', async () => {
    await expect(readBoundedBody(failingAfter('{"err'), { maxBytes: 100 })).rejects.toThrow('socket hang up');
    expect(await readBoundedBody(failingAfter('{"err'), { maxBytes: 100, keepPartial: true })).toEqual({ text: '{"err', overflow: false });
  });

  it('a body that trickles on ends at timeoutMs with what arrived', async () => {
    const body = new PassThrough();
    body.write('first');
    // Without the timeout this read never ends (the test's own timeout fails it).
    const read = await readBoundedBody(body, { maxBytes: 100, timeoutMs: 100, keepPartial: true });
    expect(read.text).toBe('first');
  });
});
