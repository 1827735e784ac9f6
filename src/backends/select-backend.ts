import type { Config } from '../config/config.js';
import type { DingTalkApi } from '../dingtalk/dingtalk-api.js';
import type { Logger } from '../logger.js';
import type { AssistantBackend } from './assistant-backend.js';
import { createDingTalkAssistantBackend } from './dingtalk-assistant/dingtalk-assistant-backend.js';
import { createDingTalkThreadsClient } from './dingtalk-assistant/dingtalk-threads-client.js';
import { createDifyBackend } from './dify/dify-backend.js';
import { createOpenAiBackend } from './openai/openai-backend.js';

export interface BackendDeps {
  readonly config: Config;
  /** The DingTalk OpenAPI client (used by the DingTalk assistant backend only). */
  readonly dingtalk: DingTalkApi;
  readonly logger: Logger;
}

/** The backend ASSISTANT_BACKEND names, built from its own section of the config. */
export function selectBackend({ config, dingtalk, logger }: BackendDeps): AssistantBackend {
  const { backend } = config;
  // A streamed answer holds its connection for the whole answer: room for every slot.
  const maxSockets = config.assistant.maxConcurrentRuns + 8;
  switch (backend.kind) {
    case 'openai':
      return createOpenAiBackend({ ...backend, maxSockets, logger });
    case 'dify':
      return createDifyBackend({ baseUrl: backend.baseUrl, apiKey: backend.apiKey, maxSockets, logger });
    case 'dingtalk-assistant': {
      const threads = createDingTalkThreadsClient({
        api: dingtalk,
        assistantId: backend.assistantId,
        streaming: backend.streaming,
        callTimeoutMs: config.dingtalk.timeoutMs,
        maxAnswerChars: config.chatLimits.answerMaxChars,
        logger,
      });
      return createDingTalkAssistantBackend({ threads, logger });
    }
  }
}

/** Values the logger must never print, from whichever backend is configured. */
export function backendSecrets(config: Config): string[] {
  const { backend } = config;
  return backend.kind === 'openai' || backend.kind === 'dify' ? [backend.apiKey] : [];
}
