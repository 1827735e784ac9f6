import dotenv from 'dotenv';
import { buildApp, type App } from './app.js';
import { backendSecrets } from './backends/select-backend.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { readConfigFileFromDisk } from './config/policy-env.js';
import { StorageError } from './errors.js';
import { createLogger, flushLogger, type Logger, SecretRedactor } from './logger.js';

/** Hard limit for a graceful stop; PM2's kill_timeout is set above it. */
const STOP_TIMEOUT_MS = 8_000;

async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  const config = readConfigOrExit();
  const redactor = new SecretRedactor();
  redactor.add(config.dingtalk.appSecret);
  for (const key of [...config.http.apiKeys, ...backendSecrets(config)]) redactor.add(key);
  const logger = createLogger({ level: config.log.level, file: config.log.file, redactor });
  installCrashHandlers(logger);

  let app: App;
  try {
    app = await buildApp(config, { logger, redactor });
    await app.start();
  } catch (err) {
    const hint = err instanceof StorageError ? 'check SESSION_STORAGE and the folder permissions' : undefined;
    logger.error('start-up failed', { err: String(err), hint });
    await flushLogger(logger);
    process.exit(1);
  }
  logger.info('ready', { url: app.url });
  process.send?.('ready'); // PM2 wait_ready

  const shutdown = (signal: string) => {
    logger.info('stopping', { signal });
    const force = setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
    void app
      .stop()
      .catch((err) => logger.error('stop failed', { err: String(err) }))
      .then(() => flushLogger(logger))
      .finally(() => {
        clearTimeout(force);
        process.exit(0);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** One clear message naming every problem, exit code 1, no stack trace. */
function readConfigOrExit(): Config {
  try {
    return loadConfig(process.env, { readFile: readConfigFileFromDisk });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nSee .env.example and README.md (配置 / Configuration).\n`);
    process.exit(1);
  }
}

function installCrashHandlers(logger: Logger): void {
  // A bug must not leave a half-alive process: log it and let PM2 restart us.
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception; exiting', { err: err.stack ?? String(err) });
    void flushLogger(logger).finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { err: String(reason) });
  });
}

void main();
