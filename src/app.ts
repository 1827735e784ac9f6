import type { AddressInfo } from 'node:net';
import type { AssistantBackend } from './backends/assistant-backend.js';
import { selectBackend } from './backends/select-backend.js';
import type { Config } from './config/config.js';
import { createDingTalkApi } from './dingtalk/dingtalk-http-client.js';
import { ChatHandler } from './chat/chat-handler.js';
import { selectReplies } from './replies/select-replies.js';
import { QuestionPolicy } from './policy/question-policy.js';
import { RetentionPurge } from './policy/retention-purge.js';
import { RobotDirectMessenger } from './replies/dingtalk-markdown/robot-direct-messenger.js';
import { createStreamTransport, type StreamTransport, type StreamTuning } from './transports/dingtalk-stream/stream-transport.js';
import { ConversationEngine, type EngineOptions } from './engine/conversation-engine.js';
import { buildHttpApp } from './transports/http/http-app.js';
import { readinessChecks } from './health/readiness-checks.js';
import { ReadinessMonitor, type MonitorTuning } from './health/readiness-monitor.js';
import type { DingTalkApi } from './dingtalk/dingtalk-api.js';
import type { Logger, SecretRedactor } from './logger.js';
import { BridgeMetrics } from './metrics/bridge-metrics.js';
import { openStorage, type Storage } from './storage/open-storage.js';

export interface AppDeps {
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Replaces the configured backend (tests). */
  readonly backend?: AssistantBackend;
  /** Stream reconnect and stop knobs (tests); production uses the defaults. */
  readonly streamTuning?: StreamTuning;
  /** A registry of its own per app by default. */
  readonly metrics?: BridgeMetrics;
  /** Retry pacing of failing dependency checks (tests); production uses the defaults. */
  readonly healthTuning?: Partial<MonitorTuning>;
  /** The school clock of policy (quotas, quiet hours, exams); tests move it. */
  readonly clock?: () => number;
}

export interface App {
  /** Listens for HTTP and connects the bot; resolves when both are up. */
  start(): Promise<void>;
  /** Stops intake, lets in-flight work finish (bounded), closes the store. Idempotent. */
  stop(): Promise<void>;
  /** `http://host:port` once started. */
  readonly url: string;
  readonly engine: ConversationEngine;
  readonly storage: Storage;
  readonly stream: StreamTransport;
  readonly metrics: BridgeMetrics;
  /** The background dependency checks behind `/healthz` `checks`. */
  readonly readiness: ReadinessMonitor;
  readonly policy: QuestionPolicy;
  /** Deletes what is past its retention (at start, then hourly). */
  readonly purge: RetentionPurge;
}
// With the Stream stop (about 4 s at most) this keeps a stop under main.ts's 8 s hard limit.
const DRAIN_TIMEOUT_MS = 3_000;

/** Wires the service from a Config; reads no env and does not listen until `start`. */
export async function buildApp(config: Config, deps: AppDeps): Promise<App> {
  const { logger, redactor } = deps;
  const storage = await openStorage({
    url: config.sessions.storage,
    // Remember message ids well past DingTalk's redelivery window and the usefulness window.
    ledgerTtlMs: Math.max(config.chat.messageMaxAgeMs * 3, 60 * 60_000),
    logger,
    keyPrefix: config.redis.keyPrefix,
    leaseMs: config.redis.leaseMs,
  });
  const metrics = deps.metrics ?? new BridgeMetrics();
  const api = createDingTalkApi({ config, logger, redactor, metrics });
  const backend = deps.backend ?? selectBackend({ config, dingtalk: api, logger });
  const engine = new ConversationEngine({
    backend,
    sessions: storage.sessions,
    logger,
    pseudonymKey: storage.pseudonymKey,
    metrics,
    locks: storage.coordination?.locks,
    ...engineLimits(config),
  });
  const replies = selectReplies({ config, api, cards: storage.cards, logger });
  const policy = buildPolicy(config, storage, backend.name, api, logger, deps.clock);
  const purge = new RetentionPurge({
    storage,
    retention: config.policy.retention,
    clock: policy.clock,
    logger,
    expireSessions: () => engine.sweepExpired(),
  });
  const chat = new ChatHandler({
    ...config.chat,
    limits: config.chatLimits,
    engine,
    ledger: storage.ledger,
    replier: replies.replier,
    policy,
    logger: logger.child({ transport: 'chat' }),
    questions: metrics.questionMeter('chat', backend.name),
  });
  const stream = createStreamTransport({
    config,
    sink: chat,
    logger,
    redactor,
    tuning: deps.streamTuning,
    lease: storage.coordination?.streamLease,
    metrics,
  });
  metrics.setProbes({
    streamConnected: () => stream.status().state === 'connected',
    conversationsActive: () => engine.load().conversations,
    queueWaiting: () => engine.load().waiting,
  });
  const readiness = new ReadinessMonitor({
    ...readinessChecks({ config, storage, api, backend, stream }),
    logger: logger.child({ component: 'health' }),
    redact: (text) => redactor.redact(text),
    tuning: deps.healthTuning,
  });
  const http = await buildHttpApp({
    config,
    engine,
    policy,
    logger,
    health: {
      storageReachable: () => storage.ping(),
      storageWritable: () => storage.checkWritable(),
      stream: () => streamHealth(stream),
      checks: () => readiness.snapshot(),
    },
    metrics: { registry: metrics.registry, questions: metrics.questionMeter('http', backend.name) },
  });

  let url = '';
  let stopping: Promise<void> | undefined;

  const stop = async () => {
    readiness.stop();
    await purge.stop();
    // Stop intake first (the Stream socket, then HTTP); in-flight work finishes (bounded) or
    // stays pending in the ledger, and only then does the store close.
    await stream.stop().catch((err) => logger.warn('stream stop failed', { err: String(err) }));
    await Promise.race([
      Promise.allSettled([http.close(), engine.drain(), replies.stop(), engine.stop()]),
      new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS).unref()),
    ]);
    await storage.close();
    api.close();
    backend.close?.();
    logger.info('stopped');
  };

  return {
    engine,
    storage,
    stream,
    metrics,
    readiness,
    policy,
    purge,
    get url() {
      return url;
    },
    async start() {
      await http.listen({ port: config.http.port, host: config.http.host });
      const address = http.server.address() as AddressInfo;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      // Text past its retention goes before anything new is taken in.
      await purge.start();
      logger.info('http api listening', { url, assistant: backend.name });
      await replies.start(storage.ledger);
      // In the background, beside the Stream connection: wrong credentials show within seconds.
      readiness.start();
      await stream.start();
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

/** School policy over the storage; counsellors are messaged by the app robot. */
function buildPolicy(
  config: Config,
  storage: Storage,
  backendName: string,
  api: DingTalkApi,
  logger: Logger,
  clock: (() => number) | undefined,
): QuestionPolicy {
  const messenger = config.dingtalk.appKey
    ? new RobotDirectMessenger({ api, robotCode: config.dingtalk.appKey, timeoutMs: config.dingtalk.timeoutMs })
    : undefined;
  return new QuestionPolicy({
    config: config.policy,
    stores: storage.policy,
    pseudonymKey: storage.pseudonymKey,
    backendName,
    messenger,
    sessionTtlMs: config.sessions.ttlMs,
    logger,
    now: clock,
  });
}

/** The engine's limits as configured (SESSION_TTL_MINUTES, ANSWER_TIMEOUT_SECONDS, ...). */
export function engineLimits(
  config: Config,
): Pick<EngineOptions, 'sessionTtlMs' | 'answerTimeoutMs' | 'queueLimit' | 'maxConcurrentRuns' | 'maxAnswerChars' | 'runShares'> {
  const { runShares } = config.hardening;
  return {
    sessionTtlMs: config.sessions.ttlMs,
    answerTimeoutMs: config.assistant.answerTimeoutMs,
    queueLimit: config.assistant.queueLimit,
    maxConcurrentRuns: config.assistant.maxConcurrentRuns,
    maxAnswerChars: config.chatLimits.answerMaxChars,
    // Without the chat bot no slots are kept for it.
    runShares: config.chat.streamEnabled ? runShares : { chat: 0, api: runShares.api },
  };
}

function streamHealth(stream: StreamTransport): Record<string, unknown> {
  const status = stream.status();
  return {
    state: status.state,
    leader: status.leader,
    lastFrameAt: status.lastFrameAt ? new Date(status.lastFrameAt).toISOString() : null,
    reconnects: status.reconnects,
    // Our clock minus DingTalk's (ms), from the latest frame; message ages are judged by DingTalk's.
    clockSkewMs: status.clockSkewMs ?? null,
  };
}
