import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { createDingTalkApi, type DingTalkHttpClient } from '../../src/dingtalk/dingtalk-http-client.js';
import { createStreamTransport, type StreamTransport, type StreamTuning } from '../../src/transports/dingtalk-stream/stream-transport.js';
import { ConversationEngine, engineLimits } from '../../src/engine/conversation-engine.js';
import type { ConversationService } from '../../src/engine/types.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { FakeRobotApi } from '../fakes/fake-robot-api.js';
import { FakeStreamGateway } from '../fakes/fake-stream-gateway.js';
import { FakeTokenApi } from '../fakes/fake-token-api.js';
import { captureLogger, type CapturedLogs } from './capture-logs.js';
import { ScriptedBackend } from './scripted-backend.js';

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly tuning?: StreamTuning;
  /** Replace the engine (e.g. a hand-written ConversationService). */
  readonly engine?: (parts: { config: Config; storage: Storage; logs: CapturedLogs }) => ConversationService;
}

export interface StreamHarness {
  readonly server: FakeHttpServer;
  readonly gateway: FakeStreamGateway;
  readonly robot: FakeRobotApi;
  readonly tokens: FakeTokenApi;
  readonly backend: ScriptedBackend;
  readonly logs: CapturedLogs;
  config: Config;
  transport: StreamTransport;
  engine: ConversationService;
  storage: Storage;
  /** Stops the transport and storage and starts new ones on the same SQLite file (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const FAST_TUNING: StreamTuning = {
  reconnect: { baseMs: 50, maxMs: 400 },
  stableAfterMs: 500,
  stopGraceMs: 1_000,
};

/** Fake DingTalk (token, gateway, robot) + real engine on SQLite + the Stream transport. */
export async function startStreamHarness(options: HarnessOptions = {}): Promise<StreamHarness> {
  const server = new FakeHttpServer();
  const tokens = new FakeTokenApi(server);
  const gateway = new FakeStreamGateway(server, { appKey: tokens.appKey, appSecret: tokens.appSecret });
  const robot = new FakeRobotApi(server, { robotCode: tokens.appKey, checkAuth: (r) => tokens.checkAuth(r) });
  await server.listen();
  const dir = mkdtempSync(path.join(tmpdir(), 'stream-'));
  const config = loadConfig({
    DING_APP_KEY: tokens.appKey,
    DING_APP_SECRET: tokens.appSecret,
    AI_ASSISTANT_ID: '0123456789abcdef0123456789abcdef',
    DINGTALK_API_BASE: server.baseUrl,
    DINGTALK_TIMEOUT_SECONDS: '5',
    SESSION_STORAGE: `sqlite://${path.join(dir, 'bot.sqlite')}`,
    THINKING_NOTICE_SECONDS: '0',
    ...options.env,
  });
  const logs = captureLogger();
  logs.redactor.add(config.dingtalk.appSecret);
  const backend = new ScriptedBackend();
  let api: DingTalkHttpClient;

  const boot = async () => {
    const storage = await openStorage({ url: config.sessions.storage, ledgerTtlMs: 3_600_000, logger: logs.logger });
    const engine =
      options.engine?.({ config, storage, logs }) ??
      new ConversationEngine({
        backend,
        sessions: storage.sessions,
        logger: logs.logger,
        ...engineLimits(config),
      });
    api = createDingTalkApi({ config, logger: logs.logger, redactor: logs.redactor });
    const transport = createStreamTransport({
      config,
      engine,
      ledger: storage.ledger,
      api,
      logger: logs.logger,
      redactor: logs.redactor,
      tuning: { ...FAST_TUNING, ...options.tuning },
    });
    return { storage, engine, transport };
  };

  const h: StreamHarness = {
    server,
    gateway,
    robot,
    tokens,
    backend,
    logs,
    config,
    ...(await boot()),
    async restart() {
      await h.transport.stop();
      api.close();
      await h.storage.close();
      Object.assign(h, await boot());
      await h.transport.start();
      if (config.chat.streamEnabled) await waitFor(() => h.transport.status().state === 'connected');
    },
    async close() {
      await h.transport.stop();
      api.close();
      await h.storage.close();
      await gateway.close();
      await server.close();
    },
  };
  await h.transport.start();
  if (config.chat.streamEnabled) await waitFor(() => h.transport.status().state === 'connected');
  return h;
}

/** Polls `predicate` until true; throws with `what` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
