import type { DWClientDownStream } from 'dingtalk-stream';

/** The robot message topic, the only CALLBACK we subscribe to. */
export const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';

export type StreamFrame = DWClientDownStream;

/**
 * Parses one downstream text frame. Never throws: undefined when it is not JSON or lacks the
 * fields every frame must have (type, headers.messageId, headers.topic). `data` stays the raw
 * JSON string; `time` may be a string or a number on the wire, so it is not interpreted here.
 */
export function parseStreamFrame(text: string): StreamFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const frame = value as Partial<StreamFrame> | null;
  if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') return undefined;
  const headers = frame.headers as Partial<StreamFrame['headers']> | undefined;
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (typeof headers.messageId !== 'string' || typeof headers.topic !== 'string') return undefined;
  return frame as StreamFrame;
}

/** The upstream answer to a frame: same messageId, code 200, `data` a JSON string. */
export function ackFrame(messageId: string, data: unknown): string {
  return JSON.stringify({
    code: 200,
    headers: { contentType: 'application/json', messageId },
    message: 'OK',
    data: typeof data === 'string' ? data : JSON.stringify(data),
  });
}
