/**
 * The server side of DingTalk's Stream frames (the client side is in
 * src/transports/dingtalk-stream/stream-frame.ts): downstream frames are JSON text with
 * `type`, `headers` (`messageId`, `topic`, `time` as a string) and `data` as a JSON string;
 * the client answers each with `{code, headers: {messageId}, message, data}`.
 * Shared by the demo's simulator and the test fakes.
 */

/** Extra headers of a CALLBACK frame besides messageId, topic, time and contentType. */
export interface CallbackHeaders {
  readonly appId?: string;
  readonly connectionId?: string;
  /** The sender's clock (epoch ms) in the `time` header; now by default. */
  readonly time?: number;
}

export function callbackFrame(topic: string, messageId: string, data: object, extra: CallbackHeaders = {}): string {
  return JSON.stringify({
    specVersion: '1.0',
    type: 'CALLBACK',
    headers: {
      ...(extra.appId !== undefined ? { appId: extra.appId } : {}),
      ...(extra.connectionId !== undefined ? { connectionId: extra.connectionId } : {}),
      contentType: 'application/json',
      messageId,
      time: String(extra.time ?? Date.now()), // a string on the wire, like real frames
      topic,
    },
    data: JSON.stringify(data),
  });
}

/** A SYSTEM frame (`ping` with `{"opaque": …}` data, `disconnect` with a reason). */
export function systemFrame(topic: string, messageId: string, data: string): string {
  return JSON.stringify({
    specVersion: '1.0',
    type: 'SYSTEM',
    headers: { contentType: 'application/json', messageId, time: String(Date.now()), topic },
    data,
  });
}

/** What the client sent back: an ack of a frame or the echo of a ping. */
export interface UpstreamFrame {
  readonly messageId: string;
  readonly code: unknown;
  readonly data: unknown;
}

/** Undefined for anything that is not JSON with `headers.messageId`. */
export function parseUpstreamFrame(text: string): UpstreamFrame | undefined {
  let msg: { code?: unknown; data?: unknown; headers?: { messageId?: unknown } } | null;
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return undefined;
  }
  const messageId = msg?.headers?.messageId;
  if (typeof messageId !== 'string') return undefined;
  return { messageId, code: msg!.code, data: msg!.data };
}
