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
export function ackFrame(messageId: string, data: unknown, message = 'OK'): string {
  return JSON.stringify({
    code: 200,
    headers: { contentType: 'application/json', messageId },
    message,
    data: typeof data === 'string' ? data : JSON.stringify(data),
  });
}

/** DingTalk's clock when it sent the frame (header `time`, epoch ms, a string on the wire). */
export function frameTime(frame: Pick<StreamFrame, 'headers'>): number | undefined {
  const raw: unknown = (frame.headers as { time?: unknown }).time;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** What can be read of a frame without parsing it whole. */
export interface FrameHead {
  readonly type?: string;
  readonly messageId?: string;
  readonly topic?: string;
}

/**
 * The `type` and `headers` of a frame too big to parse, from the start of its text (DingTalk
 * writes them before `data`). Reads only `head`: a bounded prefix. The headers object is a flat
 * map of strings, found by scanning for its closing brace outside strings; `data` is a JSON
 * string, so names inside it are escaped and never match. Empty when nothing readable is there.
 */
export function readFrameHead(head: string): FrameHead {
  const type = /^\s*\{[^]*?"type"\s*:\s*"([A-Z_]{1,32})"/.exec(head.slice(0, 4096))?.[1];
  const start = /"headers"\s*:\s*\{/.exec(head);
  if (!start) return { type };
  const open = start.index + start[0].length - 1;
  const close = closingBrace(head, open);
  if (close < 0) return { type };
  let headers: Record<string, unknown>;
  try {
    headers = JSON.parse(head.slice(open, close + 1)) as Record<string, unknown>;
  } catch {
    return { type };
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v.slice(0, 200) : undefined);
  return { type, messageId: text(headers.messageId), topic: text(headers.topic) };
}

/** The ack that tells DingTalk an unusable frame was received (so it stops delivering it); none for SYSTEM frames. */
export function unusableFrameAck(head: FrameHead): string | undefined {
  if (head.messageId === undefined || head.type === 'SYSTEM') return undefined;
  const data = head.type === 'EVENT' ? { status: 'SUCCESS', message: 'frame too large; dropped' } : { response: null };
  return ackFrame(head.messageId, data, 'frame too large; dropped');
}

/** Index of the `}` closing the object opened at `open`, skipping strings; -1 when not in `text`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}
