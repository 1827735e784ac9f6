import dotenv from 'dotenv';
import { buildApp, type App } from './app.js';
import { backendSecrets } from './backends/select-backend.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { readConfigFileFromDisk } from './config/policy-env.js';
import { StorageError } from './errors.js';
import { EXIT_CONFIG_ERROR, EXIT_FAILURE } from './exit-codes.js';
import { createLogger, flushLogger, type Logger, reopenLogFiles, SecretRedactor } from './logger.js';
import { redisUrlPassword } from './storage/redis/redis-url.js';

/** Hard limit for a graceful stop; PM2's kill_timeout is set above it. */
const STOP_TIMEOUT_MS = 8_000;

async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  const config = readConfigOrExit();
  const redactor = new SecretRedactor();
  redactor.add(config.dingtalk.appSecret);
  for (const key of [...config.http.apiKeys, ...backendSecrets(config)]) redactor.add(key);
  // A redis:// URL may carry a password; the metrics token guards the scrape endpoint.
  redactor.add(redisUrlPassword(config.sessions.storage));
  redactor.add(config.metrics.token);
  const logger = createLoggerOrExit(config, redactor);
  installCrashHandlers(logger);
  installLogFileSignals(logger);

  let app: App;
  try {
    app = await buildApp(config, { logger, redactor });
    await app.start();
  } catch (err) {
    const hint = err instanceof StorageError ? 'check SESSION_STORAGE and the folder permissions' : undefined;
    logger.error('start-up failed', { err: String(err), hint });
    await flushLogger(logger);
    process.exit(EXIT_FAILURE);
  }
  logger.info('ready', { url: app.url });
  process.send?.('ready'); // PM2 wait_ready

  let stopping = false;
  const shutdown = (signal: string) => {
    // A second signal (an impatient operator, a supervisor) must not cut the drain short.
    if (stopping) {
      logSafely(() => logger.warn('already stopping; signal ignored', { signal }));
      return;
    }
    stopping = true;
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
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * SIGHUP (logrotate's postrotate) and SIGUSR2 (`pm2 sendSignal SIGUSR2 …`) reopen LOG_FILE
 * instead of ending the process, as their default action would.
 */
function installLogFileSignals(logger: Logger): void {
  for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
    process.on(signal, () => {
      logSafely(() => {
        const files = reopenLogFiles(logger);
        logger.info('log files reopened', { signal, files });
      });
    });
  }
}

/** Logging after the logger was flushed (the last moment of a stop) must not throw. */
function logSafely(write: () => void): void {
  try {
    write();
  } catch {
    // the process is exiting
  }
}

/**
 * One clear message naming every problem, no stack trace, and exit code 78 so PM2 stops
 * (stop_exit_codes) instead of restarting into the same error.
 */
function readConfigOrExit(): Config {
  try {
    return loadConfig(process.env, { readFile: readConfigFileFromDisk });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      `${err.message}\nSee .env.example and README.md (配置 / Configuration); \`npm run doctor\` checks the whole setup.\n`,
    );
    process.exit(EXIT_CONFIG_ERROR);
  }
}

/** A LOG_FILE that cannot be created is a configuration error like any other (exit 78). */
function createLoggerOrExit(config: Config, redactor: SecretRedactor): Logger {
  try {
    return createLogger({ ...config.log, redactor });
  } catch (err) {
    process.stderr.write(`Invalid configuration:\n  - LOG_FILE cannot be written (${redactor.redact(String(err))})\n`);
    process.exit(EXIT_CONFIG_ERROR);
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
