import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AssistantBackend } from '../../src/backends/assistant-backend.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { readConfigFileFromDisk } from '../../src/config/policy-env.js';
import { engineLimits } from '../../src/app.js';
import { ConversationEngine } from '../../src/engine/conversation-engine.js';
import { QuestionPolicy } from '../../src/policy/question-policy.js';
import { buildHttpApp } from '../../src/transports/http/http-app.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { captureLogger, type CapturedLogs } from './capture-logs.js';
import { ScriptedBackend } from './scripted-backend.js';

export const TEST_ENV = {
  ASSISTANT_BACKEND: 'dingtalk-assistant',
  DING_APP_KEY: 'ding-test-app-key',
  DING_APP_SECRET: 'test-app-secret-value-0123456789',
  AI_ASSISTANT_ID: '0123456789abcdef0123456789abcdef',
  HOST: '127.0.0.1',
  PORT: '0',
} as const;

export interface HttpHarness {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly engine: ConversationEngine;
  readonly backend: AssistantBackend | ScriptedBackend;
  readonly storage: Storage;
  readonly logs: CapturedLogs;
  readonly config: Config;
  readonly policy: QuestionPolicy;
  ask(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** The real HTTP app + engine + SQLite store, listening on 127.0.0.1:0. */
export async function startHttpHarness(
  env: Record<string, string> = {},
  backend: AssistantBackend | ScriptedBackend = new ScriptedBackend(),
): Promise<HttpHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'http-'));
  const config = loadConfig({ SESSION_STORAGE: `sqlite://${path.join(dir, 's.sqlite')}`, ...TEST_ENV, ...env }, { readFile: readConfigFileFromDisk });
  const logs = captureLogger();
  logs.redactor.add(config.dingtalk.appSecret);
  for (const k of config.http.apiKeys) logs.redactor.add(k);
  const storage = await openStorage({
    url: config.sessions.storage,
    ledgerTtlMs: 60_000,
    logger: logs.logger,
    keyPrefix: config.redis.keyPrefix,
    leaseMs: config.redis.leaseMs,
  });
  const assistant = backend instanceof ScriptedBackend ? backend.backend(logs.logger) : backend;
  const engine = new ConversationEngine({
    backend: assistant,
    sessions: storage.sessions,
    logger: logs.logger,
    pseudonymKey: storage.pseudonymKey,
    locks: storage.coordination?.locks,
    ...engineLimits(config),
  });
  const policy = new QuestionPolicy({
    config: config.policy,
    stores: storage.policy,
    pseudonymKey: storage.pseudonymKey,
    backendName: assistant.name,
    sessionTtlMs: config.sessions.ttlMs,
    logger: logs.logger,
  });
  const health = { storageReachable: () => storage.ping(), storageWritable: () => storage.checkWritable() };
  const app = await buildHttpApp({ config, engine, policy, logger: logs.logger, health });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    app,
    engine,
    backend,
    storage,
    logs,
    config,
    policy,
    async ask(body, headers = {}) {
      const res = await fetch(`${url}/assistant/ask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
    async close() {
      await app.close();
      await storage.close();
    },
  };
}
