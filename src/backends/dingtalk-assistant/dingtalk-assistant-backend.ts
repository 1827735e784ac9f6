import type { Logger } from '../../logger.js';
import type { AskInput, AssistantBackend, BackendAnswer, CallOptions } from '../assistant-backend.js';
import { ThreadSession } from './thread-session.js';
import type { ThreadsClient } from './threads-client.js';

export interface DingTalkAssistantBackendDeps {
  /** The Threads API (`createDingTalkThreadsClient`, or a scripted one in tests). */
  readonly threads: ThreadsClient;
  readonly logger: Logger;
}

/**
 * DingTalk's AI assistant (Threads API, for apps that still hold `AI.Assistant.Run`) as an
 * `AssistantBackend`: the conversation state is the thread id plus its run bookkeeping.
 */
export function createDingTalkAssistantBackend(deps: DingTalkAssistantBackendDeps): AssistantBackend {
  const { threads } = deps;
  return {
    name: 'dingtalk-assistant',
    ask(input: AskInput): Promise<BackendAnswer> {
      const log = deps.logger.child({ ...input.logContext });
      return new ThreadSession(threads, input, log).answer();
    },
    // AI_ASSISTANT_ID exists and the app may run it (doctor, /healthz); absent for scripted threads.
    ...(threads.checkAssistant ? { check: (options: CallOptions) => threads.checkAssistant!(options) } : {}),
  };
}
