import { DWClient, type DWClientConfig } from 'dingtalk-stream';
import type { Logger, SecretRedactor } from '../../logger.js';
import type { BridgeMetrics } from '../../metrics/bridge-metrics.js';
import { DEFAULT_BACKOFF, reconnectDelay, type BackoffOptions } from './reconnect-backoff.js';
import { GatewayError, requestGatewayTicket } from './gateway-ticket.js';
import type { StreamFailure, StreamState, StreamStatus } from './stream-status.js';
import { ackFrame, frameTime, parseStreamFrame, readFrameHead, ROBOT_TOPIC, type StreamFrame, unusableFrameAck } from './stream-frame.js';
import { type FrameLimits, StreamLink, type LivenessOptions } from './stream-link.js';

export type { StreamFailure, StreamState, StreamStatus } from './stream-status.js';

/** Receives a CALLBACK frame; `ack` answers it on the connection it came from. */
export type CallbackHandler = (frame: StreamFrame, ack: () => boolean) => void | Promise<void>;

export interface StreamClientOptions {
  /** DINGTALK_API_BASE: the gateway is `${apiBase}/v1.0/gateway/connections/open`. */
  readonly apiBase: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Timeout of the gateway POST and of the WebSocket handshake. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  readonly onCallback: CallbackHandler;
  readonly reconnect?: BackoffOptions;
  readonly liveness?: Partial<LivenessOptions>;
  /** A connection open this long counts as healthy: the backoff starts again from the base. */
  readonly stableAfterMs?: number;
  /** Counts gateway registrations (the quota meter) and reconnections. */
  readonly metrics?: BridgeMetrics;
  /** STREAM_FRAME_MAX_KB in bytes: larger frames are acked as unusable, never parsed. */
  readonly maxFrameBytes?: number;
}

const DEFAULT_LIVENESS: LivenessOptions = { pingIntervalMs: 20_000, pongTimeoutMs: 10_000, idleTimeoutMs: 180_000 };
/** Frames up to this are read (and dropped if above the frame limit); larger ones close the socket. */
export const FRAME_HARD_CAP_BYTES = 16 * 1024 * 1024;
const DEFAULT_FRAME_MAX_BYTES = 1024 * 1024;
const UA = 'dingtalk-assistant-bridge/0.1 (dingtalk-stream-2.1.5 adapter)';

/**
 * The one place that contains dingtalk-stream 2.1.5's defects. We keep DWClient (the user's
 * choice, its frame types and public surface) but override everything that touches the
 * network: the SDK's reconnect (storm, leaked timers and sockets), its unguarded frame
 * parsing, its console logging and its hard-coded gateway URL are never used.
 */
export class StreamClient extends DWClient {
  private readonly opts: StreamClientOptions;
  private readonly liveness: LivenessOptions;
  private link: StreamLink | undefined;
  private nextUrl: string | undefined;
  private connecting = false;
  private stopped = true;
  private attempts = 0;
  private opened = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastFrameAt: number | undefined;
  private lastFailure: StreamFailure | undefined;
  private disconnectedSince: number | undefined;
  private clockSkewMs: number | undefined;
  private readonly frames: FrameLimits;
  /** The connection the frame being dispatched arrived on (set only during dispatch). */
  private receiving: StreamLink | undefined;

  constructor(options: StreamClientOptions) {
    const config: DWClientConfig = {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      ua: UA,
      debug: false, // debug prints the whole config, secret included
      keepAlive: false, // its heartbeat interval is never cleared; StreamLink does liveness
      autoReconnect: false, // its reconnect double-schedules; we own the loop
      subscriptions: [{ type: 'CALLBACK', topic: ROBOT_TOPIC }], // no EVENT '*'
    };
    super(config);
    this.opts = options;
    this.liveness = { ...DEFAULT_LIVENESS, ...options.liveness };
    this.frames = { maxBytes: options.maxFrameBytes ?? DEFAULT_FRAME_MAX_BYTES, hardCapBytes: FRAME_HARD_CAP_BYTES };
    options.redactor.add(options.clientSecret);
  }

  /** Opens the first connection; resolves once that attempt settled (it retries on its own). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.disconnectedSince = Date.now();
    await this.connect();
  }

  /** Stops taking frames: cancels any reconnect and closes the socket (bounded wait). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const link = this.link;
    this.link = undefined;
    this.connected = false;
    if (link) await link.close('stopping');
  }

  status(): StreamStatus {
    const state: StreamState = this.stopped ? 'stopped' : this.link ? 'connected' : 'connecting';
    return {
      state,
      lastFrameAt: this.lastFrameAt,
      reconnects: Math.max(0, this.opened - 1),
      lastFailure: this.lastFailure,
      disconnectedSince: state === 'connecting' ? this.disconnectedSince : undefined,
      clockSkewMs: this.clockSkewMs,
    };
  }

  override printDebug(): void {
    // The SDK's debug output goes to console and includes the secret; we never print it.
  }

  override async getAccessToken(): Promise<never> {
    // The SDK's version puts the secret in a query string; the app's DingTalkApi owns tokens.
    throw new Error('StreamClient does not fetch access tokens');
  }

  /** Registers at `${apiBase}/v1.0/gateway/connections/open` for a fresh, single-use ticket. */
  override async getEndpoint(): Promise<this> {
    const { apiBase, clientId, clientSecret, timeoutMs, redactor } = this.opts;
    this.opts.metrics?.dingtalkApiCalls.inc({ api: 'stream_gateway' });
    const { endpoint, ticket } = await requestGatewayTicket({
      apiBase,
      clientId,
      clientSecret,
      timeoutMs,
      subscriptions: this.config.subscriptions,
      ua: UA,
    });
    // A credential for 90 s (single use); kept redacted a while longer for late error lines.
    redactor.add(ticket, { expiresAt: Date.now() + 10 * 60_000 });
    const sep = endpoint.includes('?') ? '&' : '?';
    this.nextUrl = `${endpoint}${sep}ticket=${encodeURIComponent(ticket)}`;
    return this;
  }

  /** Opens a WebSocket with the ticket just fetched and makes it the current connection. */
  override async _connect(): Promise<void> {
    const url = this.nextUrl;
    this.nextUrl = undefined; // a ticket opens exactly one connection
    if (!url) throw new Error('no ticket: getEndpoint() must run first');
    const link = await StreamLink.open(url, {
      timeoutMs: this.opts.timeoutMs,
      liveness: this.liveness,
      frames: this.frames,
      logger: this.opts.logger,
      onText: (l, text) => this.receive(l, text),
      onOversized: (l, head, bytes) => this.receiveOversized(l, head, bytes),
      onDead: (l, reason) => this.onLinkDead(l, reason),
    });
    if (this.stopped) {
      await link.close('stopped while connecting');
      return;
    }
    this.adopt(link);
  }

  /** One connection attempt, single-flight; on failure the next one is scheduled with backoff. */
  override async connect(): Promise<void> {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    let failed = false;
    try {
      await this.getEndpoint();
      await this._connect();
    } catch (err) {
      failed = true;
      // A socket that fails its handshake after a ticket was issued: DingTalk is not reachable.
      const kind = err instanceof GatewayError ? err.kind : 'unavailable';
      this.lastFailure = { kind, message: this.opts.redactor.redact(String(err)), at: Date.now() };
      this.opts.logger.warn('stream connection attempt failed', { attempt: this.attempts + 1, err: String(err) });
    } finally {
      this.connecting = false;
    }
    if (failed || !this.link) this.scheduleReconnect();
  }

  override disconnect(): void {
    void this.stop();
  }

  override heartbeat(): void {
    // Liveness is per connection, in StreamLink.
  }

  /** Guarded entry for every text frame: bad JSON or a throwing handler never escapes. */
  override onDownStream(data: string): void {
    const frame = parseStreamFrame(data);
    if (!frame) {
      this.opts.logger.warn('ignoring a malformed stream frame', { bytes: data.length });
      return;
    }
    const sentAt = frameTime(frame);
    if (sentAt !== undefined) this.clockSkewMs = Date.now() - sentAt;
    try {
      if (frame.type === 'SYSTEM') this.onSystem(frame);
      else if (frame.type === 'CALLBACK') this.onCallback(frame);
      else if (frame.type === 'EVENT') this.onEvent(frame);
    } catch (err) {
      this.opts.logger.error('stream frame handler threw', { messageId: frame.headers.messageId, err: String(err) });
    }
  }

  override onSystem(frame: StreamFrame): void {
    const topic = frame.headers.topic;
    if (topic === 'ping') {
      this.receiving?.send(ackFrame(frame.headers.messageId, frame.data ?? ''));
    } else if (topic === 'disconnect') {
      // The server will close this socket in ~10 s and stops delivering on it: dial now.
      this.opts.logger.info('stream server asked us to reconnect', { data: frame.data });
      void this.connect();
    }
  }

  override onEvent(frame: StreamFrame): void {
    // Not subscribed; answer anyway so the server does not redeliver.
    this.receiving?.send(ackFrame(frame.headers.messageId, { status: 'SUCCESS', message: 'ignored' }));
  }

  override onCallback(frame: StreamFrame): void {
    const link = this.receiving;
    const { messageId } = frame.headers;
    const text = ackFrame(messageId, { response: null });
    // Prefer the socket the frame came from; if it died meanwhile, the current one will do.
    const ack = () => link?.send(text) === true || this.link?.send(text) === true;
    const result = this.opts.onCallback(frame, ack);
    if (result instanceof Promise) {
      result.catch((err: unknown) =>
        this.opts.logger.error('stream callback handler failed', { messageId, err: String(err) }),
      );
    }
  }

  /** Not used by us; kept safe: sends on the current connection instead of silently no-op. */
  override send(messageId: string, value: unknown): void {
    if (!this.link?.send(ackFrame(messageId, value))) {
      this.opts.logger.warn('stream send dropped: not connected', { messageId });
    }
  }

  private receive(link: StreamLink, text: string): void {
    this.lastFrameAt = Date.now();
    this.receiving = link;
    try {
      this.onDownStream(text);
    } finally {
      this.receiving = undefined;
    }
  }

  /**
   * A frame above STREAM_FRAME_MAX_KB: only its headers are read (from its first bytes), and it
   * is acked as unusable so DingTalk does not deliver it again and again; nothing of it is kept.
   */
  private receiveOversized(link: StreamLink, head: string, bytes: number): void {
    this.lastFrameAt = Date.now();
    const frame = readFrameHead(head);
    const ack = unusableFrameAck(frame);
    const { maxBytes } = this.frames;
    this.opts.logger.warn('ignoring a stream frame larger than STREAM_FRAME_MAX_KB', { bytes, maxBytes, ...frame, acked: ack !== undefined });
    if (ack) link.send(ack);
  }

  private adopt(link: StreamLink): void {
    const previous = this.link;
    this.link = link;
    this.connected = true;
    this.lastFailure = undefined;
    this.disconnectedSince = undefined;
    this.opened++;
    if (this.opened > 1) this.opts.metrics?.streamReconnects.inc();
    this.opts.logger.info('stream connected', { connection: this.opened, replacing: previous !== undefined });
    link.onStable(this.opts.stableAfterMs ?? 30_000, () => {
      this.attempts = 0;
    });
    if (previous) void previous.close('replaced by a new connection');
  }

  private onLinkDead(link: StreamLink, reason: string): void {
    if (link !== this.link) return; // an old connection we already replaced
    this.link = undefined;
    this.connected = false;
    this.disconnectedSince = Date.now();
    this.opts.logger.warn('stream connection lost', { reason });
    void link.close(reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.connecting || this.retryTimer) return;
    const delay = reconnectDelay(this.attempts++, this.opts.reconnect ?? DEFAULT_BACKOFF);
    this.opts.logger.info('stream reconnect scheduled', { delayMs: delay, attempt: this.attempts });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }
}
