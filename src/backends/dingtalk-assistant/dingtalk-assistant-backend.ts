import type { Logger } from '../../logger.js';
import type { AskInput, AssistantBackend, BackendAnswer, BackendState, CallOptions, ForgetOptions } from '../assistant-backend.js';
import { readThreadState, ThreadSession } from './thread-session.js';
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
    // Reset, expiry and the purge delete the thread, so students' words do not stay at DingTalk.
    ...(threads.deleteThread ? { forget: (state: BackendState, options: ForgetOptions) => forgetThread(threads, state, options) } : {}),
  };
}

async function forgetThread(threads: ThreadsClient, state: BackendState, options: ForgetOptions): Promise<void> {
  const thread = readThreadState(state);
  if (!thread) return; // no thread was ever created for this conversation
  const { deadline, signal, logContext } = options;
  await threads.deleteThread!(thread.threadId, { deadline, signal, logContext });
}
