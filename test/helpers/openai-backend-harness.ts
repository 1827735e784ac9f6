/** The OpenAI-compatible backend against the fake provider, as its tests drive it. */
import { expect } from 'vitest';
import type { AskInput, AssistantBackend, BackendAnswer, BackendState } from '../../src/backends/assistant-backend.js';
import { createOpenAiBackend, type OpenAiBackendOptions } from '../../src/backends/openai/openai-backend.js';
import { AssistantError } from '../../src/errors.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { FakeOpenAiApi, openAiErrors } from '../fakes/fake-openai-api.js';
import { captureLogger, type CapturedLogs } from './capture-logs.js';

export const KEY = 'sk-test-0123456789abcdef-secret';
export const BASE_PATH = '/compatible-mode/v1';
export const SYSTEM = '你是学校的助手。';

export interface Harness {
  readonly server: FakeHttpServer;
  readonly fake: FakeOpenAiApi;
  readonly backend: AssistantBackend;
  readonly logs: CapturedLogs;
}

const open: Harness[] = [];

/** For `afterEach`: closes every harness and checks that none of their log lines has the key. */
export async function closeHarnesses(): Promise<void> {
  const lines: string[] = [];
  for (const h of open.splice(0)) {
    lines.push(...h.logs.lines);
    h.backend.close?.();
    await h.server.close();
  }
  for (const line of lines) expect(line).not.toContain(KEY);
}

export async function setup(options: Partial<OpenAiBackendOptions> = {}): Promise<Harness> {
  const server = new FakeHttpServer();
  await server.listen();
  const fake = new FakeOpenAiApi(server, { basePath: BASE_PATH, apiKey: KEY, model: 'qwen-plus' });
  const logs = captureLogger();
  const backend = createOpenAiBackend({
    baseUrl: `${server.baseUrl}${BASE_PATH}`,
    apiKey: KEY,
    model: 'qwen-plus',
    systemPrompt: SYSTEM,
    extraBody: {},
    historyMaxTurns: 10,
    historyMaxChars: 4000,
    maxSockets: 4,
    logger: logs.logger,
    timeouts: { firstByteMs: 1_000, idleMs: 500 },
    ...options,
  });
  const h = { server, fake, backend, logs };
  open.push(h);
  return h;
}

export interface Outcome {
  readonly answer?: BackendAnswer;
  readonly error?: AssistantError;
  readonly texts: string[];
  readonly ms: number;
}

export type AskExtra = Partial<AskInput> & { deadlineMs?: number };

export async function ask(h: Harness, text: string, extra: AskExtra = {}): Promise<Outcome> {
  const texts: string[] = [];
  const started = Date.now();
  const { deadlineMs, ...rest } = extra;
  try {
    const answer = await h.backend.ask({
      state: undefined,
      text,
      user: 'u-hmac-1',
      deadline: Date.now() + (deadlineMs ?? 2_500),
      logContext: { msgId: 'm-1' },
      onText: (t) => texts.push(t),
      ...rest,
    });
    return { answer, texts, ms: Date.now() - started };
  } catch (error) {
    expect(error).toBeInstanceOf(AssistantError);
    return { error: error as AssistantError, texts, ms: Date.now() - started };
  }
}

/** Asks in sequence, carrying the state, and returns the last outcome. */
export async function converse(h: Harness, questions: string[], state?: BackendState): Promise<Outcome> {
  let last: Outcome = { texts: [], ms: 0 };
  let current = state;
  for (const [i, q] of questions.entries()) {
    last = await ask(h, q, { state: current, requestId: `r-${i + 1}` });
    expect(last.error).toBeUndefined();
    current = last.answer!.state;
  }
  return last;
}

export const records = (h: Harness, msg: string) => h.logs.records().filter((r) => r.message === msg);
export type StoredTurns = { turns: Array<{ q: string; a: string; id?: string }> };
export const turnsOf = (state: BackendState | undefined) => (state as StoredTurns).turns;
export const textsOnly = (messages: Array<{ role: string; content: string }>) => messages.map((m) => `${m.role}:${m.content}`);

/** onText texts grow in order within one attempt; a retry may start over, shorter. */
export function expectGrowing(texts: string[]): void {
  for (let i = 1; i < texts.length; i++) {
    const prev = texts[i - 1]!;
    const cur = texts[i]!;
    if (cur.length >= prev.length) expect(cur.startsWith(prev)).toBe(true);
  }
}
