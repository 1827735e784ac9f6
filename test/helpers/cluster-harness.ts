import { buildApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { FakeRobotApi } from '../fakes/fake-robot-api.js';
import { FakeStreamGateway } from '../fakes/fake-stream-gateway.js';
import { FakeTokenApi } from '../fakes/fake-token-api.js';
import { captureLogger, type CapturedLogs } from './capture-logs.js';
import { ScriptedBackend } from './scripted-backend.js';
import { FAST_TUNING, waitFor } from './stream-harness.js';

/** One instance of the service in this process: the app as `main` builds it, and its own logs. */
export interface Instance {
  readonly app: App;
  readonly logs: CapturedLogs;
}

export interface ClusterHarness {
  readonly gateway: FakeStreamGateway;
  readonly robot: FakeRobotApi;
  /** One model service behind every instance (as in production). */
  readonly backend: ScriptedBackend;
  readonly config: Config;
  readonly instances: Instance[];
  /** Builds and starts one more instance on the same store. */
  addInstance(): Promise<Instance>;
  /** The instance holding the Stream (waits, bounded, until there is exactly one). */
  leader(timeoutMs?: number): Promise<Instance>;
  close(): Promise<void>;
}

/**
 * Several instances of the whole service (buildApp) against one fake DingTalk and one store
 * (normally Redis), each on its own HTTP port, as two PM2 processes would run.
 */
export async function startCluster(options: { instances: number; env: Record<string, string> }): Promise<ClusterHarness> {
  const server = new FakeHttpServer();
  const tokens = new FakeTokenApi(server);
  const gateway = new FakeStreamGateway(server, { appKey: tokens.appKey, appSecret: tokens.appSecret });
  const robot = new FakeRobotApi(server, { robotCode: tokens.appKey, checkAuth: (r) => tokens.checkAuth(r) });
  await server.listen();
  const config = loadConfig({
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    DING_APP_KEY: tokens.appKey,
    DING_APP_SECRET: tokens.appSecret,
    AI_ASSISTANT_ID: '0123456789abcdef0123456789abcdef',
    DINGTALK_API_BASE: server.baseUrl,
    DINGTALK_TIMEOUT_SECONDS: '5',
    THINKING_NOTICE_SECONDS: '0',
    HOST: '127.0.0.1',
    PORT: '0',
    ...options.env,
  });
  const backend = new ScriptedBackend();
  const instances: Instance[] = [];
  const addInstance = async () => {
    const logs = captureLogger();
    logs.redactor.add(config.dingtalk.appSecret);
    const app = await buildApp(config, { logger: logs.logger, redactor: logs.redactor, backend: backend.backend(logs.logger), streamTuning: FAST_TUNING });
    await app.start();
    const instance = { app, logs };
    instances.push(instance);
    return instance;
  };
  for (let i = 0; i < options.instances; i++) await addInstance();
  return {
    gateway,
    robot,
    backend,
    config,
    instances,
    addInstance,
    async leader(timeoutMs = 10_000) {
      const connected = () => instances.filter((i) => i.app.stream.status().leader && i.app.stream.status().state === 'connected');
      await waitFor(() => connected().length === 1 && gateway.socketCount === 1, timeoutMs, 'one instance holding the Stream');
      return connected()[0]!;
    },
    async close() {
      await Promise.all(instances.map((i) => i.app.stop()));
      await gateway.close();
      await server.close();
    },
  };
}
