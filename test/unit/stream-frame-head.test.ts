import { describe, expect, it } from 'vitest';
import { callbackFrame, systemFrame } from '../../src/demo/simulator/stream-frames.js';
import { frameTime, readFrameHead, unusableFrameAck } from '../../src/transports/dingtalk-stream/stream-frame.js';
import { OVERSIZED_HEAD_BYTES } from '../../src/transports/dingtalk-stream/stream-link.js';

/** Issue 13 item 9: the headers of a frame too big to parse, read from a bounded prefix of its text. */
const head = (frame: string) => Buffer.from(frame).subarray(0, OVERSIZED_HEAD_BYTES).toString('utf8');

describe('readFrameHead', () => {
  it('reads type, messageId and topic from the first bytes of a huge CALLBACK frame', () => {
    const frame = callbackFrame('/v1.0/im/bot/messages/get', '2130_x_19a_y', { text: { content: '长'.repeat(500_000) } }, { appId: 'a', connectionId: 'c' });
    expect(frame.length).toBeGreaterThan(OVERSIZED_HEAD_BYTES);
    expect(readFrameHead(head(frame))).toEqual({ type: 'CALLBACK', messageId: '2130_x_19a_y', topic: '/v1.0/im/bot/messages/get' });
  });

  it('is not fooled by names inside data (escaped there) or braces and quotes inside header values', () => {
    const frame = JSON.stringify({
      type: 'EVENT',
      headers: { messageId: 'm-"quoted"-{brace}', topic: '*', eventType: 'x}' },
      data: JSON.stringify({ headers: { messageId: 'fake' }, type: 'SYSTEM', pad: 'p'.repeat(200_000) }),
    });
    expect(readFrameHead(head(frame))).toEqual({ type: 'EVENT', messageId: 'm-"quoted"-{brace}', topic: '*' });
  });

  it('finds nothing when the headers come after a long data (it never reads past the prefix)', () => {
    const frame = JSON.stringify({ type: 'CALLBACK', data: JSON.stringify({ pad: 'q'.repeat(200_000) }), headers: { messageId: 'late', topic: 't' } });
    expect(readFrameHead(head(frame))).toEqual({ type: 'CALLBACK' });
    expect(unusableFrameAck(readFrameHead(head(frame)))).toBeUndefined();
  });

  it('acks CALLBACK and EVENT frames as dropped, and never answers a SYSTEM frame', () => {
    const ack = JSON.parse(unusableFrameAck({ type: 'CALLBACK', messageId: 'm1' })!) as Record<string, unknown>;
    expect(ack).toEqual({ code: 200, headers: { contentType: 'application/json', messageId: 'm1' }, message: 'frame too large; dropped', data: '{"response":null}' });
    const event = JSON.parse(unusableFrameAck({ type: 'EVENT', messageId: 'e1' })!) as { data: string };
    expect(JSON.parse(event.data)).toMatchObject({ status: 'SUCCESS' });
    expect(unusableFrameAck(readFrameHead(systemFrame('ping', 'p1', '{"opaque":"x"}')))).toBeUndefined();
  });

  it('reads the frame time as DingTalk sends it (a string) or as documented (a number)', () => {
    expect(frameTime({ headers: { messageId: 'm', topic: 't', time: '1707286661313' } as never })).toBe(1707286661313);
    expect(frameTime({ headers: { messageId: 'm', topic: 't', time: 1707286661313 } as never })).toBe(1707286661313);
    expect(frameTime({ headers: { messageId: 'm', topic: 't', time: 'soon' } as never })).toBeUndefined();
  });
});
