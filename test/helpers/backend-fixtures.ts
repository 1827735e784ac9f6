import { CHECK_QUESTION } from '../../src/backends/check-by-asking.js';
import type { FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { difyErrors, FakeDifyApi } from '../fakes/fake-dify-api.js';
import { FakeOpenAiApi, openAiErrors } from '../fakes/fake-openai-api.js';

/**
 * One model backend behind its wire fake, installed on a fake DingTalk's server, for suites
 * that must hold for every backend. Every fake answers `答：<question>（之前N轮）`, N being the
 * earlier turns the model saw, so a suite can read continuity from the answer alone.
 */
export interface BackendFixture {
  readonly name: 'openai' | 'dify' | 'dingtalk-assistant';
  install(fake: FakeDingTalk): InstalledBackend;
}

export interface InstalledBackend {
  /** Variables that select and configure the backend (merged into the service's env). */
  readonly env: Record<string, string>;
  /** The next question fails upstream in a way that is not retried. */
  failNext(): void;
  /** The next question never gets an answer (it times out at its deadline). */
  hangNext(): void;
  /** Makes every answer take about `ms` (for kill -9 while answers are in flight). */
  slowDown(ms: number): void;
  /** False for the DingTalk assistant: a run that never ends makes it abandon its thread. */
  readonly keepsContextAfterTimeout: boolean;
  /** Questions the model service received (all conversations), without the service's own checks. */
  questionsReceived(): string[];
}

const answer = (question: string, earlier: number) => `答：${question}（之前${earlier}轮）`;

/** The readiness check asks the model a one-word question at start-up; suites count only users'. */
const notChecks = (questions: string[]) => questions.filter((q) => q !== CHECK_QUESTION);

export const OPENAI_FIXTURE: BackendFixture = {
  name: 'openai',
  install(fake) {
    const api = new FakeOpenAiApi(fake.server, { basePath: '/compatible-mode/v1', apiKey: 'sk-semantics-0123456789' });
    return {
      env: {
        ASSISTANT_BACKEND: 'openai',
        OPENAI_BASE_URL: `${fake.baseUrl}/compatible-mode/v1`,
        OPENAI_API_KEY: 'sk-semantics-0123456789',
        OPENAI_MODEL: 'qwen-plus',
      },
      failNext: () => api.script({ respond: openAiErrors.dashScopeBlocked() }),
      hangNext: () => api.script({ hang: true }),
      slowDown: (ms) => {
        api.chunkDelayMs = Math.ceil(ms / 8);
      },
      keepsContextAfterTimeout: true,
      questionsReceived: () =>
        notChecks(api.bodies.map((b: { messages?: Array<{ role: string; content: string }> }) => b.messages?.at(-1)?.content ?? '')),
    };
  },
};

export const DIFY_FIXTURE: BackendFixture = {
  name: 'dify',
  install(fake) {
    const api = new FakeDifyApi(fake.server, { basePath: '/v1', apiKey: 'app-semantics-0123456789' });
    api.answer = (q, history) => answer(q, history.length);
    return {
      env: { ASSISTANT_BACKEND: 'dify', DIFY_BASE_URL: `${fake.baseUrl}/v1`, DIFY_API_KEY: 'app-semantics-0123456789' },
      failNext: () => api.script({ respond: difyErrors.completionError() }),
      hangNext: () => api.script({ hang: true }),
      slowDown: (ms) => {
        api.chunkDelayMs = Math.ceil(ms / 8);
      },
      keepsContextAfterTimeout: true,
      questionsReceived: () => notChecks(api.chats.map((r) => String((r.body as { query?: string } | undefined)?.query ?? ''))),
    };
  },
};

export const DINGTALK_ASSISTANT_FIXTURE: BackendFixture = {
  name: 'dingtalk-assistant',
  install(fake) {
    const { assistant } = fake;
    assistant.runDurationMs = 30;
    assistant.answer = (q, { threadId }) => answer(q, assistant.userMessages(threadId).length - 1);
    return {
      env: { ASSISTANT_BACKEND: 'dingtalk-assistant', AI_ASSISTANT_ID: assistant.assistantId },
      failNext: () => assistant.scriptNextRun({ failWith: 'model overloaded' }),
      hangNext: () => assistant.scriptNextRun({ neverFinish: true }),
      slowDown: (ms) => {
        assistant.runDurationMs = ms;
      },
      keepsContextAfterTimeout: false,
      questionsReceived: () => [...assistant.threads.keys(), ...assistant.deletedThreads.keys()].flatMap((t) => assistant.userMessages(t)),
    };
  },
};

export const BACKEND_FIXTURES: readonly BackendFixture[] = [OPENAI_FIXTURE, DIFY_FIXTURE, DINGTALK_ASSISTANT_FIXTURE];
