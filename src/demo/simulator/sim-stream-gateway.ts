import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { ROBOT_TOPIC } from '../../transports/dingtalk-stream/stream-frame.js';
import { objectBody, sendDingError, type SimCredentials, type WireLog } from './sim-replies.js';
import { callbackFrame, parseUpstreamFrame, systemFrame } from './stream-frames.js';

export interface GatewayOptions {
  readonly credentials: SimCredentials;
  readonly wire: WireLog;
  /** `ws://host:port` the returned endpoint points at. */
  readonly socketBase: () => string;
  /** A frame was acked by the bot, or sent (on a socket). */
  readonly onDelivery: (messageId: string, state: 'sent' | 'acked') => void;
  readonly onOnlineChange: (online: boolean) => void;
  /** SYSTEM ping every this often (default 30 s; the client drops a socket silent for 180 s). */
  readonly pingIntervalMs?: number;
  /** An unacked CALLBACK is delivered again after this long, as DingTalk does (~60 s). */
  readonly redeliverAfterMs?: number;
}

interface Ticket {
  readonly expiresAt: number;
  readonly subscribesRobot: boolean;
  used: boolean;
}

interface Link {
  readonly ws: WebSocket;
  readonly subscribesRobot: boolean;
  readonly pings: Map<string, string>;
  readonly timer: NodeJS.Timeout;
}

interface Pending {
  readonly text: string;
  redeliveries: number;
  timer?: NodeJS.Timeout;
}

const TICKET_LIFE_MS = 90_000;
const MAX_REDELIVERIES = 3;

/**
 * DingTalk's Stream gateway: `POST /v1.0/gateway/connections/open` checks the app credentials
 * and hands out a single-use ticket valid 90 s; the WebSocket at `/connect?ticket=` accepts it
 * once. Robot messages go out as CALLBACK frames to a connection that subscribed to the robot
 * topic; SYSTEM pings must be echoed; a frame not acked in time is delivered again.
 */
export class SimStreamGateway {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly tickets = new Map<string, Ticket>();
  private readonly links = new Set<Link>();
  private readonly pending = new Map<string, Pending>();
  /** Frames pushed while no bot was connected (message ids), oldest first. */
  private readonly backlog: string[] = [];
  private connections = 0;

  constructor(private readonly options: GatewayOptions) {}

  get online(): boolean {
    return [...this.links].some((l) => l.subscribesRobot);
  }

  register(app: FastifyInstance): void {
    app.post('/v1.0/gateway/connections/open', async (req, reply) => {
      const body = objectBody(req.body);
      const { credentials, wire } = this.options;
      if (body.clientId !== credentials.appKey || body.clientSecret !== credentials.appSecret) {
        wire('gateway', 'connections/open refused: wrong clientId/clientSecret (401 authFailed)');
        return sendDingError(reply, 401, 'authFailed', '鉴权失败');
      }
      if (!String(req.headers.accept ?? '').includes('application/json')) {
        return reply.code(406).type('application/xml').send('<error>Accept: application/json required</error>');
      }
      const subscriptions: unknown[] = Array.isArray(body.subscriptions) ? body.subscriptions : [];
      const subscribesRobot = subscriptions.some((s) => objectBody(s).type === 'CALLBACK' && objectBody(s).topic === ROBOT_TOPIC);
      const ticket = randomUUID();
      this.tickets.set(ticket, { expiresAt: Date.now() + TICKET_LIFE_MS, subscribesRobot, used: false });
      wire('gateway', `connections/open: ticket issued (single use, 90 s)${subscribesRobot ? '' : '; no robot subscription'}`);
      return { endpoint: `${this.options.socketBase()}/connect`, ticket };
    });
  }

  /** Takes WebSocket upgrades for `/connect` on the simulator's HTTP server. */
  attach(server: Server): void {
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  /** Sends a robot message as a CALLBACK frame (or keeps it until a bot connects). */
  push(messageId: string, payload: object): void {
    const text = callbackFrame(ROBOT_TOPIC, messageId, payload, { appId: 'demo-app-id', connectionId: 'demo-connection' });
    const frame: Pending = { text, redeliveries: 0 };
    this.pending.set(messageId, frame);
    this.deliver(messageId);
    this.armRedelivery(messageId, frame);
  }

  async close(): Promise<void> {
    for (const frame of this.pending.values()) clearTimeout(frame.timer);
    for (const link of this.links) {
      clearInterval(link.timer);
      link.ws.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname !== '/connect') return void socket.destroy();
    const ticket = this.tickets.get(url.searchParams.get('ticket') ?? '');
    if (!ticket || ticket.used || Date.now() > ticket.expiresAt) {
      this.options.wire('socket', 'WebSocket refused: invalid, used or expired ticket');
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    ticket.used = true;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, ticket.subscribesRobot));
  }

  private accept(ws: WebSocket, subscribesRobot: boolean): void {
    const { wire, pingIntervalMs = 30_000 } = this.options;
    const pings = new Map<string, string>();
    const timer = setInterval(() => this.ping(link), pingIntervalMs);
    timer.unref();
    const link: Link = { ws, subscribesRobot, pings, timer };
    this.links.add(link);
    this.connections++;
    wire('socket', `bot connected (connection ${this.connections})`);
    this.options.onOnlineChange(this.online);
    ws.on('error', () => undefined);
    ws.on('message', (raw) => this.receive(link, String(raw)));
    ws.on('close', () => {
      clearInterval(timer);
      this.links.delete(link);
      wire('socket', 'bot connection closed');
      this.options.onOnlineChange(this.online);
    });
    this.ping(link);
    // Frames that waited for a bot go out once one is connected, oldest first.
    if (subscribesRobot) for (const messageId of this.backlog.splice(0)) this.sendOn(link, messageId);
  }

  private ping(link: Link): void {
    const messageId = `ping-${randomUUID()}`;
    const data = JSON.stringify({ opaque: randomUUID() });
    link.pings.set(messageId, data);
    link.ws.send(systemFrame('ping', messageId, data));
  }

  private receive(link: Link, text: string): void {
    const frame = parseUpstreamFrame(text);
    if (!frame) return this.options.wire('socket', 'ignored an upstream frame that is not JSON with headers.messageId');
    const pingData = link.pings.get(frame.messageId);
    if (pingData !== undefined) {
      link.pings.delete(frame.messageId);
      const ok = frame.code === 200 && frame.data === pingData;
      this.options.wire('ping', ok ? 'SYSTEM ping echoed by the bot' : 'SYSTEM ping answered wrongly');
      return;
    }
    const pending = this.pending.get(frame.messageId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(frame.messageId);
    this.options.wire('ack', `CALLBACK ${shortId(frame.messageId)} acked (code ${String(frame.code)})`);
    this.options.onDelivery(frame.messageId, 'acked');
  }

  /** On the newest connection that takes robot messages, else kept for the next one. */
  private deliver(messageId: string): void {
    const link = [...this.links].reverse().find((l) => l.subscribesRobot);
    if (link) return this.sendOn(link, messageId);
    if (this.backlog.includes(messageId)) return;
    this.backlog.push(messageId);
    this.options.wire('frame', `CALLBACK ${shortId(messageId)} waits: no bot connected`);
  }

  private sendOn(link: Link, messageId: string): void {
    const frame = this.pending.get(messageId);
    if (!frame) return; // acked meanwhile
    link.ws.send(frame.text);
    this.options.wire('frame', `CALLBACK ${shortId(messageId)} pushed on topic ${ROBOT_TOPIC}`);
    this.options.onDelivery(messageId, 'sent');
  }

  private armRedelivery(messageId: string, frame: Pending): void {
    frame.timer = setTimeout(() => {
      if (!this.pending.has(messageId)) return;
      if (frame.redeliveries >= MAX_REDELIVERIES) {
        this.pending.delete(messageId); // given up on, as DingTalk eventually does
        return;
      }
      frame.redeliveries++;
      this.options.wire('frame', `CALLBACK ${shortId(messageId)} not acked in time: delivering again`);
      this.deliver(messageId);
      this.armRedelivery(messageId, frame);
    }, this.options.redeliverAfterMs ?? 60_000);
    frame.timer.unref();
  }
}

function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}
