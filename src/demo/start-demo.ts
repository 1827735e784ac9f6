import { readConfigFileFromDisk } from '../config/policy-env.js';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp, type App } from '../app.js';
import { createDemoBackend } from '../backends/demo/demo-backend.js';
import { backendSecrets } from '../backends/select-backend.js';
import { loadConfig, type Config } from '../config/config.js';
import { createLogger, type Logger, SecretRedactor } from '../logger.js';
import type { StreamTuning } from '../transports/dingtalk-stream/stream-transport.js';
import { ChatRoom } from './chat/chat-room.js';
import { DEMO_CAST } from './chat/demo-cast.js';
import { DemoConfigError, type DemoModel, demoModelOf, demoServiceEnv, loadDemoSettings } from './demo-env.js';
import { registerPageRoutes } from './page-routes.js';
import { DingTalkSimulator } from './simulator/dingtalk-simulator.js';

export interface DemoOptions {
  /** The environment (after .env is loaded); the service is configured from it as `main` would be. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** SESSION_STORAGE of the demo; default a file under data/demo/ (never the production file). */
  readonly storage?: string;
  /** Replaces the console logger (tests). */
  readonly logs?: { readonly logger: Logger; readonly redactor: SecretRedactor };
  /** Pause between the demo backend's streamed steps (tests use less). */
  readonly backendStepMs?: number;
  readonly streamTuning?: StreamTuning;
  /** SYSTEM ping interval of the simulated Stream gateway. */
  readonly pingIntervalMs?: number;
}

export interface RunningDemo {
  /** The simulated DingTalk chat page. */
  readonly pageUrl: string;
  /** The service's HTTP API (`POST /assistant/ask`). */
  readonly apiUrl: string;
  readonly model: DemoModel;
  readonly config: Config;
  readonly room: ChatRoom;
  readonly simulator: DingTalkSimulator;
  /** The real service, built by `buildApp` as `main` builds it. */
  readonly app: App;
  stop(): Promise<void>;
}

export const DEMO_STORAGE = 'sqlite://./data/demo/demo.sqlite';

/**
 * Starts, in one process, the simulated DingTalk (with its chat page) and the real service
 * pointed at it: every message goes through the real Stream client, ledger, engine and replies.
 * When no model is configured the built-in demo backend answers.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const settings = loadDemoSettings(options.env);
  const room = new ChatRoom(DEMO_CAST);
  let dingtalkBase = '';
  const simulator = new DingTalkSimulator({ room, baseUrl: () => dingtalkBase, pingIntervalMs: options.pingIntervalMs });
  const server = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  let info = { apiUrl: '', demoBackend: false, replyMode: 'markdown' };
  simulator.register(server);
  registerPageRoutes(server, { room, simulator, info: () => info });
  simulator.attach(server.server);
  const port = await listenOrExplain(server, settings.port, settings.host, 'DEMO_PORT');
  dingtalkBase = `http://${reachableHost(settings.host)}:${port}`;

  const closeSimulator = async () => {
    room.close();
    await simulator.close();
    await server.close();
  };
  try {
    const model = demoModelOf(options.env);
    const config = loadConfig(
      demoServiceEnv(options.env, { dingtalkBase, ...simulator.credentials, storage: options.storage ?? DEMO_STORAGE, host: settings.host, model }),
      { readFile: readConfigFileFromDisk },
    );
    const { logger, redactor } = options.logs ?? consoleLogs(config, model);
    const backend = model.kind === 'demo' ? createDemoBackend({ stepMs: options.backendStepMs }) : undefined;
    const app = await buildApp(config, { logger, redactor, backend, streamTuning: options.streamTuning });
    await startOrExplain(app, config.http.port);
    const apiUrl = app.url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    info = { apiUrl, demoBackend: model.kind === 'demo', replyMode: String(options.env.DINGTALK_REPLY_MODE || 'markdown') };
    return {
      pageUrl: `http://${reachableHost(settings.host)}:${port}/`,
      apiUrl,
      model,
      config,
      room,
      simulator,
      app,
      async stop() {
        // The service first: its last replies still need the simulator.
        await app.stop();
        await closeSimulator();
      },
    };
  } catch (err) {
    await closeSimulator();
    throw err;
  }
}

/** The logger `main` makes, with the same secrets kept out of it. */
function consoleLogs(config: Config, model: DemoModel): { logger: Logger; redactor: SecretRedactor } {
  const redactor = new SecretRedactor();
  redactor.add(config.dingtalk.appSecret);
  const secrets = model.kind === 'configured' ? backendSecrets(config) : [];
  for (const key of [...config.http.apiKeys, ...secrets]) redactor.add(key);
  return { logger: createLogger({ level: config.log.level, file: config.log.file, redactor }), redactor };
}

/** An address the service (same machine) can dial: loopback when listening on every interface. */
function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

async function listenOrExplain(server: FastifyInstance, port: number, host: string, variable: string): Promise<number> {
  try {
    await server.listen({ port, host });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'EADDRINUSE') {
      throw new DemoConfigError([`${variable} ${port} is already in use; set ${variable} to a free port`]);
    }
    throw err;
  }
  return (server.server.address() as AddressInfo).port;
}

async function startOrExplain(app: App, port: number): Promise<void> {
  try {
    await app.start();
  } catch (err) {
    await app.stop().catch(() => undefined);
    if ((err as { code?: unknown }).code === 'EADDRINUSE') {
      throw new DemoConfigError([`PORT ${port} (the HTTP API) is already in use; set PORT to a free port`]);
    }
    throw err;
  }
}
