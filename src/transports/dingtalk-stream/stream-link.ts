import WebSocket from 'ws';
import type { Logger } from '../../logger.js';

export interface LivenessOptions {
  /** WebSocket ping every this often. */
  readonly pingIntervalMs: number;
  /** A ping without pong for this long means the socket is dead (half-open). */
  readonly pongTimeoutMs: number;
  /**
   * No frame (nor server ping) for this long means the socket is a zombie: it answers our
   * pings but delivers nothing.
   */
  readonly idleTimeoutMs: number;
}

/** How big a frame may be (STREAM_FRAME_MAX_KB, and the socket's hard cap). */
export interface FrameLimits {
  /** Larger frames are not decoded: only their first bytes go to `onOversized`. */
  readonly maxBytes: number;
  /** The socket refuses larger frames outright and closes (ws `maxPayload`). */
  readonly hardCapBytes: number;
}

/** Bytes of an oversized frame decoded to find its headers. */
export const OVERSIZED_HEAD_BYTES = 64 * 1024;

export interface LinkOptions {
  readonly timeoutMs: number;
  readonly liveness: LivenessOptions;
  readonly frames: FrameLimits;
  readonly logger: Logger;
  readonly onText: (link: StreamLink, text: string) => void;
  /** A frame above `frames.maxBytes`: its first bytes as text, and its size. */
  readonly onOversized: (link: StreamLink, head: string, bytes: number) => void;
  /** Called once when the socket closes or fails a liveness check. */
  readonly onDead: (link: StreamLink, reason: string) => void;
}

/**
 * One Stream WebSocket and everything attached to it: its listeners, its liveness timers.
 * `close` clears all of them and terminates the socket, so nothing of an old connection can
 * act on a new one (the SDK's leaked heartbeat killed fresh sockets).
 */
export class StreamLink {
  private readonly timers: NodeJS.Timeout[] = [];
  private pongTimer: NodeJS.Timeout | undefined;
  private lastFrameAt = Date.now();
  private dead = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: LinkOptions,
  ) {}

  /** Resolves once the socket is open; rejects on handshake failure or timeout. */
  static open(url: string, options: LinkOptions): Promise<StreamLink> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, { handshakeTimeout: options.timeoutMs, perMessageDeflate: false, maxPayload: options.frames.hardCapBytes });
      } catch (err) {
        reject(err);
        return;
      }
      const fail = (err: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('error', fail);
      ws.once('close', (code) => fail(new Error(`socket closed during handshake (${code})`)));
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(new StreamLink(ws, options).attach());
      });
    });
  }

  /** True when the text was handed to the socket. */
  send(text: string): boolean {
    if (this.dead || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text, (err) => {
      if (err) this.options.logger.warn('stream send failed', { err: String(err) });
    });
    return true;
  }

  /** Calls `fn` if the connection is still alive after `ms`. */
  onStable(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(() => !this.dead && fn(), ms));
  }

  /** Clears every timer and listener and ends the socket (gracefully, then forcibly). */
  close(reason: string): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.dead = true;
      this.clearTimers();
      this.ws.removeAllListeners();
      this.ws.on('error', () => undefined); // a late error must not become an uncaught one
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      const force = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 1_000);
      this.ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      try {
        this.ws.close(1000, reason.slice(0, 100));
      } catch {
        this.ws.terminate();
      }
    });
    return this.closing;
  }

  private attach(): this {
    const { ws, options } = this;
    ws.on('message', (data, isBinary) => {
      this.lastFrameAt = Date.now();
      if (isBinary) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      // Never decoded or parsed whole: a huge frame must not cost a huge string and object.
      if (bytes.length > options.frames.maxBytes) {
        options.onOversized(this, bytes.subarray(0, OVERSIZED_HEAD_BYTES).toString('utf8'), bytes.length);
        return;
      }
      options.onText(this, bytes.toString('utf8'));
    });
    // The server pinging us shows its side of this connection is alive too.
    ws.on('ping', () => {
      this.lastFrameAt = Date.now();
    });
    ws.on('pong', () => {
      clearTimeout(this.pongTimer);
      this.pongTimer = undefined;
    });
    ws.on('error', (err) => options.logger.warn('stream socket error', { err: String(err) }));
    ws.on('close', (code) => this.die(`socket closed (${code})`));
    this.timers.push(setInterval(() => this.probe(), options.liveness.pingIntervalMs));
    return this;
  }

  private probe(): void {
    const { liveness } = this.options;
    if (Date.now() - this.lastFrameAt > liveness.idleTimeoutMs) return this.die('no frames received');
    if (this.pongTimer) return; // a ping is already waiting for its pong
    try {
      this.ws.ping();
    } catch {
      return this.die('ping failed');
    }
    this.pongTimer = setTimeout(() => this.die('pong missing'), liveness.pongTimeoutMs);
  }

  private die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.clearTimers();
    this.options.onDead(this, reason);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }
}
