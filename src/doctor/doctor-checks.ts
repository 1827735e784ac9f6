import type { AssistantBackend } from '../backends/assistant-backend.js';
import { selectBackend } from '../backends/select-backend.js';
import type { Config } from '../config/config.js';
import type { DingTalkHttpClient } from '../dingtalk/dingtalk-http-client.js';
import { checkBackend, describeBackendFailure } from '../health/backend-check.js';
import { cardRepliesOn } from '../health/card-mode.js';
import { skipped, type Bilingual, type CheckResult } from '../health/check-result.js';
import { checkCardPermissions, checkCredentials, checkRobotSend, checkStreamGateway } from '../health/dingtalk-checks.js';
import { checkStorageUrl } from '../health/storage-check.js';
import type { Logger, SecretRedactor } from '../logger.js';

export interface DoctorStep {
  readonly title: Bilingual;
  readonly timeoutMs: number;
  /** The credentials check: when it fails, the steps that need a token are skipped. */
  readonly isCredentials?: boolean;
  readonly needsToken?: boolean;
  run(signal: AbortSignal): Promise<CheckResult>;
}

export interface DoctorDeps {
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly api: DingTalkHttpClient;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Collects what must be closed afterwards (the backend's sockets). */
  readonly onBackend: (backend: AssistantBackend) => void;
}

type StepBody = Omit<DoctorStep, 'title'>;

const step = (zh: string, en: string, body: StepBody): DoctorStep => ({ title: { zh, en }, ...body });

const notApplicable = (why: Bilingual): StepBody => ({ timeoutMs: 1_000, run: async () => skipped(why) });

/**
 * The doctor's checks, in the order a school sets things up: storage, the DingTalk app
 * (credentials, Stream mode and publication, robot permission, card permissions), the model.
 * Those that do not apply to this configuration are listed as skipped, with why.
 */
export function doctorSteps(deps: DoctorDeps): DoctorStep[] {
  const { config, api } = deps;
  const streamOn = config.chat.streamEnabled;
  const usesDingTalk = streamOn || config.backend.kind === 'dingtalk-assistant';
  const dingtalkMs = config.dingtalk.timeoutMs + 2_000;
  const backendMs = Math.min(config.assistant.answerTimeoutMs, 30_000);
  const streamOff = notApplicable({ zh: '不适用（STREAM_ENABLED=false）', en: 'not applicable (STREAM_ENABLED=false)' });
  return [
    step('存储可写', 'Storage writable', { timeoutMs: 10_000, run: () => checkStorageUrl(config.sessions.storage, deps.logger, config.redis) }),
    step(
      '钉钉凭证（访问令牌）',
      'DingTalk credentials (access token)',
      usesDingTalk
        ? { timeoutMs: dingtalkMs, isCredentials: true, run: (s) => checkCredentials({ api, config }, s) }
        : notApplicable({ zh: '不适用（未使用钉钉机器人或钉钉 AI 助理）', en: 'not applicable (no DingTalk bot or assistant configured)' }),
    ),
    step(
      'Stream 网关注册（应用已发布、Stream 模式）',
      'Stream gateway registration (app published, Stream mode)',
      streamOn ? { timeoutMs: dingtalkMs, needsToken: true, run: () => checkStreamGateway(config, deps.redactor) } : streamOff,
    ),
    step(
      '机器人发消息权限',
      'Robot send permission',
      streamOn ? { timeoutMs: dingtalkMs, needsToken: true, run: (s) => checkRobotSend({ api, config }, s) } : streamOff,
    ),
    step(
      'AI 卡片权限',
      'AI card permissions',
      streamOn && cardRepliesOn(config)
        ? { timeoutMs: 2 * dingtalkMs, needsToken: true, run: (s) => checkCardPermissions({ api, config }, s) }
        : notApplicable({ zh: '不适用（未使用 AI 卡片回复）', en: 'not applicable (DINGTALK_REPLY_MODE is not card)' }),
    ),
    step(`模型后端（${config.backend.kind}）`, `Model backend (${config.backend.kind})`, {
      timeoutMs: backendMs + 2_000,
      needsToken: config.backend.kind === 'dingtalk-assistant',
      run: (s) => runBackendCheck(deps, backendMs, s),
    }),
  ];
}

async function runBackendCheck(deps: DoctorDeps, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  let backend: AssistantBackend;
  try {
    backend = selectBackend({ config: deps.config, dingtalk: deps.api, logger: deps.logger });
  } catch (err) {
    return describeBackendFailure(deps.config.backend.kind, err);
  }
  deps.onBackend(backend);
  return checkBackend(backend, timeoutMs, signal);
}
