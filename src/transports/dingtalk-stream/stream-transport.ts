import type { ChatSink } from '../../chat/chat-message.js';
import type { Config } from '../../config/config.js';
import type { Logger, SecretRedactor } from '../../logger.js';
import type { BridgeMetrics } from '../../metrics/bridge-metrics.js';
import type { LeaderLease } from '../../storage/leader-lease.js';
import type { BackoffOptions } from './reconnect-backoff.js';
import { parseRobotMessage } from './robot-message.js';
import { StreamClient, type StreamStatus } from './stream-client.js';
import { frameTime, ROBOT_TOPIC, type StreamFrame } from './stream-frame.js';
import { StreamLeadership } from './stream-leadership.js';
import type { LivenessOptions } from './stream-link.js';

export interface StreamTransportDeps {
  readonly config: Config;
  /** Where messages go once parsed (the chat handler); the transport only translates the wire. */
  readonly sink: ChatSink;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Knobs for tests; production uses the defaults. */
  readonly tuning?: StreamTuning;
  /** Several instances on one store: only the holder of this lease opens the Stream. */
  readonly lease?: LeaderLease;
  readonly metrics?: BridgeMetrics;
}

export interface StreamTuning {
  readonly reconnect?: BackoffOptions;
  readonly liveness?: Partial<LivenessOptions>;
  readonly stableAfterMs?: number;
  /** How long `stop` lets in-flight answers finish before cancelling them (default 3 s). */
  readonly stopGraceMs?: number;
}

export interface StreamTransport {
  /** Answers messages a previous process left pending, then connects (retrying on its own). */
  start(): Promise<void>;
  /** Stops taking frames, lets in-flight answers finish briefly; resolves within ~5 s. */
  stop(): Promise<void>;
  /** For /healthz. */
  status(): StreamTransportStatus;
}

export interface StreamTransportStatus extends StreamStatus {
  /** Whether this instance holds the Stream (always, when it runs alone). */
  readonly leader: boolean;
}

/**
 * The DingTalk Stream receiver: robot messages arrive over the Stream socket, are turned into
 * our ChatMessage, handed to the sink (which records them), and acked once recorded (never when
 * the sink could not record one: DingTalk then delivers it again); the sink answers in the
 * background.
 */
export function createStreamTransport(deps: StreamTransportDeps): StreamTransport {
  const { config, logger, tuning = {} } = deps;
  const log = logger.child({ transport: 'dingtalk-stream' });
  if (!config.chat.streamEnabled) return disabledTransport(log);

  const { sink } = deps;
  const client = new StreamClient({
    apiBase: config.dingtalk.apiBase,
    clientId: config.dingtalk.appKey,
    clientSecret: config.dingtalk.appSecret,
    timeoutMs: config.dingtalk.timeoutMs,
    logger: log,
    redactor: deps.redactor,
    reconnect: tuning.reconnect,
    liveness: tuning.liveness,
    stableAfterMs: tuning.stableAfterMs,
    metrics: deps.metrics,
    maxFrameBytes: config.chatLimits.frameMaxBytes,
    onCallback: (frame, ack) => receive(frame, ack),
  });

  /** Admit (fast, local), then ack; the answer is worked out in the background. */
  async function receive(frame: StreamFrame, ack: () => boolean): Promise<void> {
    const { messageId, topic } = frame.headers;
    if (topic !== ROBOT_TOPIC) {
      ack();
      return;
    }
    const parsed = parseRobotMessage(typeof frame.data === 'string' ? frame.data : '', messageId, {
      receivedAt: Date.now(),
      deliveredAt: frameTime(frame),
    });
    if (!parsed.ok) {
      log.warn('ignoring an unusable robot message', { messageId, reason: parsed.reason });
      ack();
      return;
    }
    const { message } = parsed;
    let admitted: boolean;
    try {
      admitted = await sink.accept(message);
    } catch {
      return; // not recorded (the sink logged why): no ack, so DingTalk delivers it again
    }
    ack();
    if (!admitted) log.info('dropping a redelivered message', { msgId: message.id, messageId });
  }

  /** Answers what earlier holders left pending (the oldest first), then connects. */
  async function connect(): Promise<void> {
    await recover();
    await client.start();
  }

  async function recover(): Promise<void> {
    try {
      const resumed = await sink.recover();
      if (resumed > 0) log.info('resumed unanswered chat messages', { count: resumed });
    } catch (err) {
      log.error('could not read pending chat messages', { err: String(err) });
    }
  }

  const leadership = deps.lease
    ? new StreamLeadership({ lease: deps.lease, logger: log, onElected: connect, onDeposed: () => client.stop(), whileLeading: recover })
    : undefined;
  let running = false;

  return {
    async start() {
      running = true;
      await (leadership ? leadership.start() : connect());
    },
    async stop() {
      running = false;
      // The lease is freed as soon as the socket is closed, before in-flight answers finish.
      await (leadership ? leadership.stop() : client.stop());
      await sink.stop(tuning.stopGraceMs ?? 3_000);
    },
    status() {
      const status = client.status();
      if (!leadership) return { ...status, leader: running };
      const leader = leadership.isLeader;
      return { ...status, state: leader || !running ? status.state : 'standby', leader };
    },
  };
}

function disabledTransport(log: Logger): StreamTransport {
  return {
    async start() {
      log.info('DingTalk Stream disabled (STREAM_ENABLED=false)');
    },
    async stop() {},
    status: () => ({ state: 'disabled', reconnects: 0, leader: false }),
  };
}
