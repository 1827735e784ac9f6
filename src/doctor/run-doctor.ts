import { readConfigFileFromDisk } from '../config/policy-env.js';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { AssistantBackend } from '../backends/assistant-backend.js';
import { backendSecrets } from '../backends/select-backend.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { createDingTalkApi } from '../dingtalk/dingtalk-http-client.js';
import { runCheck, skipped, type CheckResult } from '../health/check-result.js';
import { createLogger, SecretRedactor } from '../logger.js';
import { redisUrlPassword } from '../storage/redis/redis-url.js';
import { doctorSteps } from './doctor-checks.js';
import { reportLines, summaryLine } from './doctor-report.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * `npm run doctor`: checks the configuration and every dependency in order, prints ✓/✗ with
 * the fix for each failure, and resolves with the exit code (0 only when nothing failed).
 * Every line goes through the secret redactor; each check has a time limit.
 */
export async function runDoctor(env: Env, write: (line: string) => void): Promise<number> {
  write('钉钉 AI 助手桥接服务 · 自检 — DingTalk AI Assistant Bridge · doctor');
  let config: Config;
  try {
    config = loadConfig(env, { readFile: readConfigFileFromDisk });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    write('✗ 配置 · Configuration');
    for (const problem of err.problems) write(`    - ${problem}`);
    write('    修复：按上面列出的变量修改 .env（参考 .env.example 和 README 的“配置”一节）');
    write('    Fix: correct the variables listed above in .env (see .env.example and README, Configuration)');
    write(summaryLine(1));
    return 1;
  }
  write('✓ 配置 · Configuration');
  const redactor = new SecretRedactor();
  for (const secret of [config.dingtalk.appSecret, ...config.http.apiKeys, ...backendSecrets(config)]) redactor.add(secret);
  redactor.add(redisUrlPassword(config.sessions.storage));
  const logger = silentLogger(redactor);
  const api = createDingTalkApi({ config, logger, redactor });
  const backends: AssistantBackend[] = [];
  let failed = 0;
  let blocked = 0;
  let tokenFailed = false;
  try {
    const steps = doctorSteps({ config, env, api, logger, redactor, onBackend: (b) => backends.push(b) });
    for (const step of steps) {
      const isBlocked = step.needsToken === true && tokenFailed;
      const result: CheckResult = isBlocked
        ? skipped({ zh: '需要先通过钉钉凭证检查', en: 'needs the DingTalk credentials check to pass first' })
        : await runCheck(step.run, step.timeoutMs);
      if (step.isCredentials && result.status === 'failing') tokenFailed = true;
      // A check that could not run because of an earlier failure has not passed either.
      if (result.status === 'failing') failed++;
      if (isBlocked) blocked++;
      for (const line of reportLines(step.title, result)) write(redactor.redact(line));
    }
  } finally {
    api.close();
    for (const b of backends) b.close?.();
  }
  write(summaryLine(failed, blocked));
  return failed + blocked === 0 ? 0 : 1;
}

/** The checks' own log lines (token refreshes, retries) would only clutter the report. */
function silentLogger(redactor: SecretRedactor) {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  return createLogger({ level: 'error', redactor, console: false, transports: [new winston.transports.Stream({ stream: sink })] });
}
