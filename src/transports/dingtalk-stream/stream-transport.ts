import { ChatHandler } from '../../chat/chat-handler.js';
import type { ChatReplier } from '../../chat/chat-message.js';
import type { Config } from '../../config.js';
import type { ConversationService } from '../../engine/types.js';
import type { Logger, SecretRedactor } from '../../logger.js';
import type { MessageLedger } from '../../storage/message-ledger.js';
import type { DingTalkApi } from '../../dingtalk/dingtalk-api.js';
import { RobotReplier } from '../../replies/dingtalk-markdown/robot-replier.js';
import type { BackoffOptions } from './reconnect-backoff.js';
import { parseRobotMessage } from './robot-message.js';
import { StreamClient, type StreamStatus } from './stream-client.js';
import { ROBOT_TOPIC, type StreamFrame } from './stream-frame.js';
import type { LivenessOptions } from './stream-link.js';

export interface StreamTransportDeps {
  readonly config: Config;
  readonly engine: ConversationService;
  readonly ledger: MessageLedger;
  readonly api: DingTalkApi;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Knobs for tests; production uses the defaults. */
  readonly tuning?: StreamTuning;
}

export interface StreamTuning {
  readonly reconnect?: BackoffOptions;
  readonly liveness?: Partial<LivenessOptions>;
  readonly stableAfterMs?: number;
  /** How long `stop` lets in-flight answers finish before cancelling them (default 3 s). */
  readonly stopGraceMs?: number;
  /** Replaces the robot replier (tests of the chat flow only). */
  readonly replier?: ChatReplier;
}

export interface StreamTransport {
  /** Answers messages a previous process left pending, then connects (retrying on its own). */
  start(): Promise<void>;
  /** Stops taking frames, lets in-flight answers finish briefly; resolves within ~5 s. */
  stop(): Promise<void>;
  /** For /healthz. */
  status(): StreamStatus;
}

/**
 * The DingTalk Stream bot: robot messages arrive over the Stream socket, are admitted into
 * the ledger, acked at once, and answered in the background through the robot replier.
 */
export function createStreamTransport(deps: StreamTransportDeps): StreamTransport {
  const { config, logger, tuning = {} } = deps;
  const log = logger.child({ transport: 'dingtalk-stream' });
  if (!config.chat.streamEnabled) return disabledTransport(log);

  const replier =
    tuning.replier ??
    new RobotReplier({ api: deps.api, robotCode: config.dingtalk.appKey, timeoutMs: config.dingtalk.timeoutMs, logger: log });
  const handler = new ChatHandler({
    engine: deps.engine,
    ledger: deps.ledger,
    replier,
    logger: log,
    ...config.chat,
  });
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
    onCallback: (frame, ack) => receive(frame, ack),
  });

  /** Admit (fast, local), then ack; the answer is worked out in the background. */
  async function receive(frame: StreamFrame, ack: () => boolean): Promise<void> {
    const { messageId, topic } = frame.headers;
    if (topic !== ROBOT_TOPIC) {
      ack();
      return;
    }
    const parsed = parseRobotMessage(typeof frame.data === 'string' ? frame.data : '', messageId);
    if (!parsed.ok) {
      log.warn('ignoring an unusable robot message', { messageId, reason: parsed.reason });
      ack();
      return;
    }
    const { message } = parsed;
    const admitted = await handler.accept(message);
    ack();
    if (!admitted) log.info('dropping a redelivered message', { msgId: message.id, messageId });
  }

  return {
    async start() {
      try {
        const resumed = await handler.recover();
        if (resumed > 0) log.info('resumed unanswered chat messages', { count: resumed });
      } catch (err) {
        log.error('could not read pending chat messages', { err: String(err) });
      }
      await client.start();
    },
    async stop() {
      await client.stop();
      await handler.stop(tuning.stopGraceMs ?? 3_000);
    },
    status: () => client.status(),
  };
}

function disabledTransport(log: Logger): StreamTransport {
  return {
    async start() {
      log.info('DingTalk Stream disabled (STREAM_ENABLED=false)');
    },
    async stop() {},
    status: () => ({ state: 'disabled', reconnects: 0 }),
  };
}
