import { randomBytes } from 'node:crypto';
import type { FakeDingTalk } from '../../test/fakes/fake-dingtalk.js';
import { FakeDifyApi } from '../../test/fakes/fake-dify-api.js';
import { FakeOpenAiApi } from '../../test/fakes/fake-openai-api.js';

/** A model service behind its wire fake, answering `答：<question>` after T ms. */
export type BenchModel = 'openai' | 'dify';

export interface InstalledBenchModel {
  /** Variables that point the service at the fake. */
  readonly env: Record<string, string>;
  /** The fake's own time for one streamed answer, measured without the bridge (ms). */
  ownAnswerMs(): Promise<number>;
}

// Made up per run: the fakes check them, nothing secret-looking lives in the source.
const OPENAI_KEY = `bench-${randomBytes(12).toString('hex')}`;
const DIFY_KEY = `bench-${randomBytes(12).toString('hex')}`;

/** Installs the fake on the bench DingTalk's server; every answer waits `runMs` before streaming. */
export function installBenchModel(fake: FakeDingTalk, model: BenchModel, runMs: number): InstalledBenchModel {
  if (model === 'openai') {
    const api = new FakeOpenAiApi(fake.server, { basePath: '/v1', apiKey: OPENAI_KEY });
    api.answer = (messages) => `答：${[...messages].reverse().find((m) => m.role === 'user')?.content ?? ''}`;
    api.chunkChars = 16;
    fake.server.inject({ method: 'POST', path: '/v1/chat/completions', delayMs: runMs });
    const env = { ASSISTANT_BACKEND: 'openai', OPENAI_BASE_URL: `${fake.baseUrl}/v1`, OPENAI_API_KEY: OPENAI_KEY, OPENAI_MODEL: 'bench' };
    const body = { model: 'bench', stream: true, messages: [{ role: 'user', content: 'baseline question' }] };
    return { env, ownAnswerMs: () => timeStream(`${fake.baseUrl}/v1/chat/completions`, OPENAI_KEY, body, 'data: [DONE]') };
  }
  const api = new FakeDifyApi(fake.server, { basePath: '/v1', apiKey: DIFY_KEY });
  api.answer = (q) => `答：${q}`;
  api.chunkChars = 16;
  fake.server.inject({ method: 'POST', path: '/v1/chat-messages', delayMs: runMs });
  const env = { ASSISTANT_BACKEND: 'dify', DIFY_BASE_URL: `${fake.baseUrl}/v1`, DIFY_API_KEY: DIFY_KEY };
  const body = { inputs: {}, query: 'baseline question', response_mode: 'streaming', conversation_id: '', user: 'u_bench' };
  return { env, ownAnswerMs: () => timeStream(`${fake.baseUrl}/v1/chat-messages`, DIFY_KEY, body, '"event":"message_end"') };
}

/** Median of five direct streamed requests: send → the end marker read. */
async function timeStream(url: string, key: string, body: object, endMarker: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (let n = 0; n < 10_000; n++) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes(endMarker)) break;
    }
    times.push(performance.now() - started);
    await reader.cancel().catch(() => undefined);
  }
  return times.sort((a, b) => a - b)[2]!;
}
