import type http from 'node:http';
import type { FakeHttpServer, FakeRequest, FakeResponse } from './fake-http-server.js';
import { sleep } from './fake-http-server.js';

/** One call's behaviour; unset fields take the fake's defaults (a normal streamed answer). */
export interface OpenAiCallScript {
  /** Answer with this HTTP error instead of a stream (see `openAiErrors`). */
  readonly respond?: FakeResponse;
  /** Never send the response headers. */
  readonly hang?: boolean;
  /** The answer text instead of `answer(messages)`. */
  readonly text?: string;
  /** Reasoning deltas sent before the content, in the named field. */
  readonly reasoning?: { readonly field: 'reasoning_content' | 'reasoning'; readonly text: string };
  /** Default `stop`; null sends none. */
  readonly finishReason?: string | null;
  /** Send `data: [DONE]` (default true). */
  readonly done?: boolean;
  /** After this many content chunks: `data: {"error": …}` and the end of the stream. */
  readonly errorAfterChunks?: { readonly after: number; readonly error: unknown };
  /** After this many content chunks: destroy the socket (no terminating chunk). */
  readonly cutAfterChunks?: number;
  /** After this many content chunks: end the response cleanly (no finish_reason, no [DONE]). */
  readonly endAfterChunks?: number;
  /** After this many content chunks: stop writing and keep the connection open. */
  readonly hangAfterChunks?: number;
  readonly chunkDelayMs?: number;
  /** Stop writing after the finish chunk (no usage, no [DONE]) and keep the connection open. */
  readonly hangAfterFinish?: boolean;
  /** Answer with one `chat.completion` JSON object although the request asked for a stream. */
  readonly ignoreStream?: boolean;
}

export interface FakeOpenAiOptions {
  /** Path prefix before `/chat/completions`, e.g. `/compatible-mode/v1`. */
  readonly basePath?: string;
  readonly apiKey: string;
  /** When set, any other model gets 404 `model_not_found`. */
  readonly model?: string;
}

type Message = { role: string; content: string };

/**
 * OpenAI Chat Completions on the fake server, streaming as the real wire does: a keep-alive
 * comment, a role chunk, content chunks (each event written in pieces, one cut inside a UTF-8
 * character), the finish chunk, the usage chunk when asked for, then `data: [DONE]`.
 */
export class FakeOpenAiApi {
  /** The answer for the messages; the default names the question and the earlier turns. */
  answer: (messages: readonly Message[]) => string = defaultAnswer;
  /** Characters per content chunk. */
  chunkChars = 4;
  chunkDelayMs = 0;
  /** Prompts longer than this (in characters) get the context-length 400. */
  contextLimitChars?: number;
  private readonly scripts: OpenAiCallScript[] = [];
  private readonly path: string;

  constructor(
    readonly server: FakeHttpServer,
    private readonly options: FakeOpenAiOptions,
  ) {
    this.path = `${options.basePath ?? ''}/chat/completions`;
    server.route('POST', this.path, (req, res) => this.handle(req, res));
  }

  /** Behaviours for the next calls, one each, in order. */
  script(...scripts: OpenAiCallScript[]): void {
    this.scripts.push(...scripts);
  }

  /** The JSON bodies received, in order (also the ones refused). */
  get bodies(): any[] {
    return this.server.requests.filter((r) => r.method === 'POST' && r.path === this.path).map((r) => r.body);
  }

  get calls(): number {
    return this.bodies.length;
  }

  private async handle(req: FakeRequest, res: http.ServerResponse): Promise<FakeResponse | undefined> {
    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) return openAiErrors.badKey();
    const script = this.scripts.shift() ?? {};
    if (script.respond && typeof script.respond.body === 'string') return sendRaw(res, script.respond);
    if (script.respond) return script.respond;
    if (script.hang) return undefined;
    const body = req.body as { model?: string; messages?: Message[]; stream?: boolean; stream_options?: { include_usage?: boolean } };
    if (this.options.model && body.model !== this.options.model) return openAiErrors.modelNotFound(String(body.model));
    const messages = body.messages ?? [];
    const chars = messages.reduce((n, m) => n + String(m.content).length, 0);
    if (this.contextLimitChars !== undefined && chars > this.contextLimitChars) return openAiErrors.contextTooLong();
    // Without `stream: true` the real API answers with one object; some servers always do.
    if (body.stream !== true || script.ignoreStream) return this.whole(script, messages, body.model ?? '');
    await this.stream(res, script, messages, body.stream_options?.include_usage === true, body.model ?? '');
    return undefined;
  }

  /** A non-streamed `chat.completion`, as the real API sends it (usage always included). */
  private whole(script: OpenAiCallScript, messages: readonly Message[], model: string): FakeResponse {
    const text = script.text ?? this.answer(messages);
    const finish = script.finishReason === undefined ? 'stop' : script.finishReason;
    const { usage } = usageChunk(model, messages, text);
    return {
      status: 200,
      body: {
        id: `chatcmpl-${Math.random().toString(16).slice(2)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }],
        usage,
      },
    };
  }

  private async stream(
    res: http.ServerResponse,
    script: OpenAiCallScript,
    messages: readonly Message[],
    withUsage: boolean,
    model: string,
  ): Promise<void> {
    const text = script.text ?? this.answer(messages);
    const delay = script.chunkDelayMs ?? this.chunkDelayMs;
    const chunk = chunkMaker(model, withUsage);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const send = async (payload: string) => {
      if (delay > 0) await sleep(delay);
      await writeSplit(res, `${payload}\n\n`);
    };
    await send(': keep-alive');
    await send(`data: ${JSON.stringify(chunk({ role: 'assistant', content: '' }))}`);
    if (script.reasoning) {
      for (const piece of pieces(script.reasoning.text, this.chunkChars)) {
        await send(`data: ${JSON.stringify(chunk({ content: null, [script.reasoning.field]: piece }))}`);
      }
    }
    const parts = pieces(text, this.chunkChars);
    for (let i = 0; i <= parts.length; i++) {
      if (await this.interrupt(res, script, i)) return;
      if (i === parts.length) break;
      await send(`data: ${JSON.stringify(chunk({ content: parts[i] }))}`);
    }
    const finish = script.finishReason === undefined ? 'stop' : script.finishReason;
    if (finish !== null) await send(`data: ${JSON.stringify(chunk({}, finish))}`);
    if (script.hangAfterFinish) return;
    if (withUsage) await send(`data: ${JSON.stringify(usageChunk(model, messages, text))}`);
    if (script.done !== false) await send('data: [DONE]');
    res.end();
  }

  /** Applies the scripted interruption due after `sent` content chunks; true when the stream stops. */
  private async interrupt(res: http.ServerResponse, script: OpenAiCallScript, sent: number): Promise<boolean> {
    if (script.errorAfterChunks?.after === sent) {
      res.end(`data: ${JSON.stringify({ error: script.errorAfterChunks.error })}\n\n`);
      return true;
    }
    if (script.cutAfterChunks === sent) {
      // Let the client read what was sent: a reset discards data still unread on its side.
      await sleep(20);
      res.socket?.destroy();
      return true;
    }
    if (script.endAfterChunks === sent) {
      res.end();
      return true;
    }
    return script.hangAfterChunks === sent;
  }
}

const errorBody = (status: number, error: Record<string, unknown>, headers?: Record<string, string>): FakeResponse => ({
  status,
  headers,
  body: { error },
});

/** Error answers with the bodies real providers send. */
export const openAiErrors = {
  badKey: () =>
    errorBody(401, { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' }),
  rateLimited: (headers: Record<string, string> = {}) =>
    errorBody(429, { message: 'Rate limit reached for requests', code: 'rate_limit_exceeded' }, headers),
  serverError: (status = 500) =>
    errorBody(status, { message: 'The server had an error processing your request.', type: 'server_error' }),
  /** DashScope input moderation (reference §2, DS4): the error plus top-level ids. */
  dashScopeBlocked: (): FakeResponse => ({
    status: 400,
    body: {
      error: {
        code: 'data_inspection_failed',
        param: null,
        message: 'Input data may contain inappropriate content.',
        type: 'data_inspection_failed',
      },
      id: 'chatcmpl-blocked',
      request_id: 'req-blocked',
    },
  }),
  arkBlocked: () =>
    errorBody(400, {
      code: 'InputTextRiskDetection',
      message: 'The request failed because the input text may contain sensitive information. Request id: x',
      param: '',
      type: 'BadRequest',
    }),
  zhipuBlocked: () => errorBody(400, { code: '1301', message: '系统检测到输入或生成内容可能包含不安全或敏感内容' }),
  modelNotFound: (model = 'no-such-model') =>
    errorBody(404, {
      message: `The model \`${model}\` does not exist or you do not have access to it.`,
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
    }),
  /** A wrong base URL lands on some web server's own 404 page. */
  htmlNotFound: (): FakeResponse => ({ status: 404, body: '<html><body>404 Not Found</body></html>' }),
  paymentRequired: () =>
    errorBody(402, { message: 'Insufficient Balance', type: 'unknown_error', code: 'invalid_request_error' }),
  zhipuArrears: () => errorBody(429, { code: '1113', message: '您的账户已欠费，请充值后重试。' }),
  arkOverdue: () =>
    errorBody(403, {
      code: 'AccountOverdueError',
      message: 'The request failed because your account has an overdue balance.',
      type: 'Forbidden',
    }),
  contextTooLong: () =>
    errorBody(400, {
      message: "This model's maximum context length is 128 tokens. However, your messages resulted in 512 tokens.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    }),
  badRequest: () =>
    errorBody(400, {
      message: "Invalid value for 'temperature'.",
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'invalid_value',
    }),
};

/** `答：<question>（之前N轮）`: proves which question was asked and how many turns came with it. */
export function defaultAnswer(messages: readonly Message[]): string {
  const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const earlier = messages.filter((m) => m.role === 'assistant').length;
  return `答：${question}（之前${earlier}轮）`;
}

/** Writes `text` in two or three TCP writes, one cut inside a multi-byte UTF-8 character. */
export async function writeSplit(res: http.ServerResponse, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  const cuts = new Set<number>();
  const lead = buf.findIndex((b) => b >= 0xc0);
  if (lead >= 0) cuts.add(lead + 1);
  if (buf.length > 8) cuts.add(Math.floor(buf.length / 2));
  let start = 0;
  for (const cut of [...cuts].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b)) {
    if (res.destroyed) return;
    res.write(buf.subarray(start, cut));
    start = cut;
    await new Promise((r) => setImmediate(r));
  }
  if (!res.destroyed) res.write(buf.subarray(start));
}

/** A non-JSON error page, written as it is. */
function sendRaw(res: http.ServerResponse, out: FakeResponse): undefined {
  res.writeHead(out.status, { 'content-type': 'text/html', ...out.headers });
  res.end(String(out.body));
  return undefined;
}

function pieces(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function chunkMaker(model: string, withUsage: boolean) {
  const id = `chatcmpl-${Math.random().toString(16).slice(2)}`;
  const created = Math.floor(Date.now() / 1000);
  return (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  });
}

function usageChunk(model: string, messages: readonly Message[], text: string) {
  const promptTokens = messages.reduce((n, m) => n + String(m.content).length, 0);
  const completionTokens = Array.from(text).length;
  return {
    id: 'chatcmpl-usage',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}
