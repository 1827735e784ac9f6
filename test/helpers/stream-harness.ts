import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../../src/app.js';
import type { AssistantBackend } from '../../src/backends/assistant-backend.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { readConfigFileFromDisk } from '../../src/config/policy-env.js';
import type { ConversationEngine } from '../../src/engine/conversation-engine.js';
import type { StreamTransport, StreamTuning } from '../../src/transports/dingtalk-stream/stream-transport.js';
import type { Storage } from '../../src/storage/open-storage.js';
import { startFakeDingTalk, type FakeDingTalk, type FakeDingTalkOptions } from '../fakes/fake-dingtalk.js';
import type { FakeCardApi } from '../fakes/fake-card-api.js';
import type { FakeHttpServer } from '../fakes/fake-http-server.js';
import type { FakeRobotApi } from '../fakes/fake-robot-api.js';
import type { FakeStreamGateway } from '../fakes/fake-stream-gateway.js';
import type { FakeTokenApi } from '../fakes/fake-token-api.js';
import type { BackendFixture, InstalledBackend } from './backend-fixtures.js';
import { captureLogger, type CapturedLogs } from './capture-logs.js';
import { ScriptedBackend } from './scripted-backend.js';

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly tuning?: StreamTuning;
  /** Replaces the scripted DingTalk assistant (e.g. a real backend against its wire fake). */
  readonly backend?: (parts: { config: Config; logs: CapturedLogs }) => AssistantBackend;
  /** A real backend, configured as in production, against its wire fake on the same server. */
  readonly model?: BackendFixture;
  /** Runs before the first boot, with the fakes listening (e.g. to seed the SQLite file). */
  readonly beforeBoot?: (parts: { config: Config; cards: FakeCardApi; robot: FakeRobotApi; fake: FakeDingTalk }) => Promise<void>;
  /** The school clock of policy (quotas, quiet hours, exams). */
  readonly clock?: () => number;
  /** Stream gateway behaviour (e.g. redelivery of unacked frames). */
  readonly gateway?: FakeDingTalkOptions['gateway'];
}

export interface StreamHarness {
  readonly server: FakeHttpServer;
  readonly gateway: FakeStreamGateway;
  readonly robot: FakeRobotApi;
  readonly cards: FakeCardApi;
  readonly tokens: FakeTokenApi;
  readonly backend: ScriptedBackend;
  /** The fake model service when `model` was given. */
  readonly model?: InstalledBackend;
  readonly fake: FakeDingTalk;
  readonly logs: CapturedLogs;
  config: Config;
  /** The whole service as `main` builds it (HTTP on 127.0.0.1:0 too). */
  app: App;
  transport: StreamTransport;
  engine: ConversationEngine;
  storage: Storage;
  /** Stops the service and builds a new one on the same SQLite file (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const FAST_TUNING: StreamTuning = {
  reconnect: { baseMs: 50, maxMs: 400 },
  stableAfterMs: 500,
  stopGraceMs: 1_000,
};

/** Fake DingTalk (token, gateway, robot) + the service from `buildApp`, on SQLite. */
export async function startStreamHarness(options: HarnessOptions = {}): Promise<StreamHarness> {
  const fake = await startFakeDingTalk({ gateway: options.gateway });
  const { server, tokens, gateway, robot } = fake;
  const model = options.model?.install(fake);
  const { cards } = fake;
  const dir = mkdtempSync(path.join(tmpdir(), 'stream-'));
  const config = loadConfig({
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    DING_APP_KEY: tokens.appKey,
    DING_APP_SECRET: tokens.appSecret,
    AI_ASSISTANT_ID: '0123456789abcdef0123456789abcdef',
    DINGTALK_API_BASE: server.baseUrl,
    DINGTALK_WEBHOOK_ORIGINS: server.baseUrl,
    DINGTALK_TIMEOUT_SECONDS: '5',
    SESSION_STORAGE: `sqlite://${path.join(dir, 'bot.sqlite')}`,
    THINKING_NOTICE_SECONDS: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    ...model?.env,
    ...options.env,
  }, { readFile: readConfigFileFromDisk });
  const logs = captureLogger();
  logs.redactor.add(config.dingtalk.appSecret);
  const scripted = new ScriptedBackend();
  await options.beforeBoot?.({ config, cards, robot, fake });

  const boot = async () => {
    // A model fixture: the backend the config names, built by the app as in production.
    const backend = model ? undefined : (options.backend?.({ config, logs }) ?? scripted.backend(logs.logger));
    const app = await buildApp(config, {
      logger: logs.logger,
      redactor: logs.redactor,
      backend,
      streamTuning: { ...FAST_TUNING, ...options.tuning },
      clock: options.clock,
    });
    await app.start();
    if (config.chat.streamEnabled) await waitFor(() => app.stream.status().state === 'connected');
    return { app, transport: app.stream, engine: app.engine, storage: app.storage };
  };

  const h: StreamHarness = {
    server,
    gateway,
    robot,
    cards,
    tokens,
    backend: scripted,
    model,
    fake,
    logs,
    config,
    ...(await boot()),
    async restart() {
      await h.app.stop();
      Object.assign(h, await boot());
    },
    async close() {
      await h.app.stop();
      await fake.close();
    },
  };
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
