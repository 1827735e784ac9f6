import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { callbackFrame, parseUpstreamFrame, systemFrame } from '../../src/demo/simulator/stream-frames.js';
import { dingError, type FakeHttpServer, type FakeRequest, type FakeResponse } from './fake-http-server.js';

export interface FakeStreamGatewayOptions {
  readonly appKey?: string;
  readonly appSecret?: string;
  /** Ticket lifetime (DingTalk: 90 s). */
  readonly ticketTtlMs?: number;
  /**
   * Redeliver a pushed CALLBACK frame that is not acked within this time, as DingTalk does
   * (~60 s), on whichever socket is open then; off by default. Tests shorten it.
   */
  readonly redeliverUnackedAfterMs?: number;
  /** Redeliveries per frame at most (bounded). Default 5. */
  readonly maxRedeliveries?: number;
}

export interface RecordedAck {
  readonly messageId: string;
  readonly code: unknown;
  readonly data: unknown;
  readonly at: number;
  /** Order of arrival across acks, echoes and (via the robot fake's clock) replies. */
  readonly seq: number;
}

interface SentFrame {
  readonly text: string;
  readonly messageId: string;
  redeliveries: number;
  timer?: NodeJS.Timeout;
}

let seq = 0;
/** A global sequence shared by fakes so tests can assert "ack before reply" without timing. */
export function nextSeq(): number {
  return ++seq;
}

/**
 * DingTalk's Stream gateway on a FakeHttpServer: `POST /v1.0/gateway/connections/open` issues
 * single-use tickets, and a `ws` server at `/connect` accepts only a valid unused ticket. Tests
 * push robot messages as CALLBACK frames and read the acks, ping echoes and connection counts.
 */
export class FakeStreamGateway {
  readonly appKey: string;
  readonly appSecret: string;
  readonly acks: RecordedAck[] = [];
  /** Echoes of SYSTEM pings: whether the data came back verbatim with the same messageId. */
  readonly pingEchoes: Array<{ messageId: string; ok: boolean }> = [];
  /** Sockets accepted so far (each with a fresh ticket). */
  connections = 0;
  /** Upgrade attempts refused (bad, reused or expired ticket). */
  rejectedTickets = 0;
  /** Every ticket handed out, in order. */
  readonly issuedTickets: string[] = [];
  /** Last body POSTed to connections/open. */
  lastOpenBody: any;
  private readonly tickets = new Map<string, { expiresAt: number; used: boolean }>();
  private readonly wss: WebSocketServer;
  private readonly open = new Set<WebSocket>();
  private readonly sent = new Map<string, SentFrame>();
  private readonly pings = new Map<string, string>();
  private refuseCount = 0;
  private refuseUntil = 0;
  private ponging = true;
  private readonly redeliverAfterMs: number | undefined;
  private readonly maxRedeliveries: number;
  /** Frames waiting for a socket (pushed or redelivered while none was open). */
  private readonly backlog: string[] = [];
  private readonly ackedIds = new Set<string>();
  /** messageIds of frames the gateway redelivered on its own because no ack came in time. */
  readonly autoRedelivered = new Set<string>();

  constructor(
    private readonly server: FakeHttpServer,
    options: FakeStreamGatewayOptions = {},
  ) {
    this.appKey = options.appKey ?? 'ding-fake-app-key';
    this.appSecret = options.appSecret ?? 'fake-app-secret-0123456789abcdef';
    const ttl = options.ticketTtlMs ?? 90_000;
    this.redeliverAfterMs = options.redeliverUnackedAfterMs;
    this.maxRedeliveries = options.maxRedeliveries ?? 5;
    server.route('POST', '/v1.0/gateway/connections/open', (req) => this.openConnection(req, ttl));
    this.wss = new WebSocketServer({
      server: server.httpServer,
      path: '/connect',
      autoPong: false,
      verifyClient: (info, cb) => cb(this.takeTicket(info.req), 401, 'invalid ticket'),
    });
    this.wss.on('connection', (ws) => this.accept(ws));
  }

  /** Open sockets right now. */
  get socketCount(): number {
    return this.open.size;
  }

  /**
   * Pushes a robot message as a CALLBACK frame on the newest socket; returns the frame's
   * messageId. `time` is DingTalk's clock in the frame header (now by default).
   */
  push(robotPayload: object, messageId = `msg-${randomUUID()}`, options: { time?: number } = {}): string {
    const text = callbackFrame('/v1.0/im/bot/messages/get', messageId, robotPayload, {
      appId: 'fake-app-id',
      connectionId: 'fake-connection',
      time: options.time,
    });
    const frame: SentFrame = { text, messageId, redeliveries: 0 };
    this.sent.set(messageId, frame);
    if (this.redeliverAfterMs === undefined) {
      this.sendRaw(text);
    } else {
      // Like DingTalk: kept for a socket if none is open, redelivered until acked.
      this.deliver(text);
      this.armRedelivery(frame);
    }
    return messageId;
  }

  /** Sends a frame pushed earlier again, as DingTalk does after ~60 s without an ack. */
  redeliver(messageId: string): void {
    const frame = this.sent.get(messageId);
    if (!frame) throw new Error(`no frame ${messageId} was pushed`);
    if (this.redeliverAfterMs === undefined) this.sendRaw(frame.text);
    else this.deliver(frame.text);
  }

  /** True once the client acked the frame (on any socket). */
  isAcked(messageId: string): boolean {
    return this.ackedIds.has(messageId);
  }

  /** Pushed frames not acked yet. */
  unacked(): string[] {
    return [...this.sent.keys()].filter((id) => !this.ackedIds.has(id));
  }

  /** A SYSTEM ping; the echo is checked and recorded in `pingEchoes`. */
  sendPing(): string {
    const messageId = `ping-${randomUUID()}`;
    const data = JSON.stringify({ opaque: randomUUID() });
    this.pings.set(messageId, data);
    this.sendRaw(this.systemFrame('ping', messageId, data));
    return messageId;
  }

  /** The server's "please reconnect" notice; the socket stays open (DingTalk closes it ~10 s later). */
  sendDisconnect(): void {
    this.sendRaw(this.systemFrame('disconnect', `sys-${randomUUID()}`, JSON.stringify({ reason: 'load balance' })));
  }

  /** Kills every open socket without a close handshake. */
  dropSocket(): void {
    for (const ws of this.open) ws.terminate();
  }

  /** Stops answering WebSocket pings (a half-open connection). */
  stopPonging(): void {
    this.ponging = false;
  }

  resumePonging(): void {
    this.ponging = true;
  }

  /** The next `n` connections/open calls (or all for `forMs`) fail with 503. */
  refuseConnections(n: number, forMs = 0): void {
    this.refuseCount = n;
    this.refuseUntil = forMs > 0 ? Date.now() + forMs : 0;
  }

  /** Sends text as-is on the newest socket (malformed frames). */
  sendRaw(text: string): void {
    const ws = [...this.open].at(-1);
    if (!ws) throw new Error('no Stream client is connected');
    ws.send(text);
  }

  ackFor(messageId: string): RecordedAck | undefined {
    return this.acks.find((a) => a.messageId === messageId);
  }

  async close(): Promise<void> {
    for (const frame of this.sent.values()) clearTimeout(frame.timer);
    for (const ws of this.open) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private openConnection(req: FakeRequest, ttl: number): FakeResponse {
    this.lastOpenBody = req.body;
    if (this.refuseCount > 0 || Date.now() < this.refuseUntil) {
      this.refuseCount = Math.max(0, this.refuseCount - 1);
      return dingError(503, 'ServiceUnavailable', 'gateway busy');
    }
    if (req.body?.clientId !== this.appKey || req.body?.clientSecret !== this.appSecret) {
      return dingError(401, 'authFailed', '鉴权失败');
    }
    if (req.headers.accept !== 'application/json') return { status: 406, body: '<xml>json only</xml>' };
    const ticket = randomUUID();
    this.tickets.set(ticket, { expiresAt: Date.now() + ttl, used: false });
    this.issuedTickets.push(ticket);
    const { port } = this.server.httpServer.address() as { port: number };
    return { status: 200, body: { endpoint: `ws://127.0.0.1:${port}/connect`, ticket } };
  }

  private takeTicket(req: IncomingMessage): boolean {
    const ticket = new URL(req.url ?? '/', 'http://fake').searchParams.get('ticket') ?? '';
    const t = this.tickets.get(ticket);
    if (!t || t.used || Date.now() > t.expiresAt) {
      this.rejectedTickets++;
      return false;
    }
    t.used = true;
    return true;
  }

  /** Sends on the newest open socket, or keeps the frame until one opens. */
  private deliver(text: string): void {
    const ws = [...this.open].at(-1);
    if (ws && ws.readyState === ws.OPEN) ws.send(text);
    else this.backlog.push(text);
  }

  private armRedelivery(frame: SentFrame): void {
    const after = this.redeliverAfterMs;
    if (after === undefined || frame.redeliveries >= this.maxRedeliveries) return;
    frame.timer = setTimeout(() => {
      frame.timer = undefined;
      if (this.ackedIds.has(frame.messageId)) return;
      frame.redeliveries++;
      this.autoRedelivered.add(frame.messageId);
      this.deliver(frame.text);
      this.armRedelivery(frame);
    }, after);
    frame.timer.unref();
  }

  private accept(ws: WebSocket): void {
    this.connections++;
    this.open.add(ws);
    // Frames that waited for a connection go out once it is up, oldest first.
    for (const text of this.backlog.splice(0)) ws.send(text);
    ws.on('close', () => this.open.delete(ws));
    ws.on('error', () => undefined);
    ws.on('ping', (data) => {
      if (this.ponging) ws.pong(data);
    });
    ws.on('message', (raw) => this.record(String(raw)));
  }

  private record(text: string): void {
    const msg = parseUpstreamFrame(text);
    if (!msg) return;
    const { messageId } = msg;
    const pingData = this.pings.get(messageId);
    if (pingData !== undefined) {
      this.pingEchoes.push({ messageId, ok: msg.code === 200 && msg.data === pingData });
      return;
    }
    this.ackedIds.add(messageId);
    const frame = this.sent.get(messageId);
    if (frame) clearTimeout(frame.timer);
    this.acks.push({ messageId, code: msg.code, data: msg.data, at: Date.now(), seq: nextSeq() });
  }

  private systemFrame(topic: string, messageId: string, data: string): string {
    return systemFrame(topic, messageId, data);
  }
}
