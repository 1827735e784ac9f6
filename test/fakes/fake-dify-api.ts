import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { FakeHttpServer, FakeRequest, FakeResponse, LoggedRequest } from './fake-http-server.js';
import { sleep } from './fake-http-server.js';
import { writeSplit } from './fake-openai-api.js';

/** One call's behaviour; unset fields take the fake's defaults (a normal streamed answer). */
export interface DifyCallScript {
  /** Answer with this HTTP error instead of a stream (see `difyErrors`). */
  readonly respond?: FakeResponse;
  /** Never send the response headers. */
  readonly hang?: boolean;
  /** The answer text instead of `answer(query, history)`. */
  readonly text?: string;
  /** After this many message chunks: an `error` event, and the stream ends. */
  readonly errorAfter?: { readonly after: number; readonly code: string; readonly message: string };
  /** After this many message chunks: `message_replace` with this text (output moderation), then the end. */
  readonly replaceAfter?: { readonly after: number; readonly text: string };
  /** After this many message chunks: `workflow_paused` and the end of the stream. */
  readonly pauseAfter?: number;
  /** After this many message chunks: destroy the socket (no terminating chunk). */
  readonly cutAfterChunks?: number;
  /** After this many message chunks: stop writing and keep the connection open. */
  readonly hangAfterChunks?: number;
  readonly chunkDelayMs?: number;
  /** Name events with an `event:` line instead of inside the JSON (as some proxies rewrite them). */
  readonly eventLines?: boolean;
}

export interface FakeDifyOptions {
  /** Path prefix before `/chat-messages`, e.g. `/v1`. */
  readonly basePath?: string;
  readonly apiKey: string;
}

export interface FakeConversation {
  readonly id: string;
  user: string;
  readonly history: Array<{ q: string; a: string }>;
  deleted: boolean;
}

/**
 * Dify's Service API chat on the fake server, with real conversation bookkeeping: a
 * conversation belongs to (user, id), an empty id opens a new one, an unknown, foreign or
 * deleted one is 404 "Conversation Not Exists.". The stream is `data: {"event": …}` frames with
 * `event: ping` frames between them, ending with `message_end`.
 */
export class FakeDifyApi {
  /** The default answer names the question and its turn number in the conversation. */
  answer: (query: string, history: readonly { q: string; a: string }[]) => string = (q, h) =>
    `答：${q}（第${h.length + 1}轮）`;
  chunkChars = 4;
  /** Delay before each frame, unless a script says otherwise. */
  chunkDelayMs = 0;
  /** DELETE answers 200 `{"result":"success"}` (older Dify) or 204 (newer). */
  deleteStatus: 200 | 204 = 200;
  readonly conversations = new Map<string, FakeConversation>();
  private readonly scripts: DifyCallScript[] = [];
  private readonly base: string;

  constructor(
    readonly server: FakeHttpServer,
    private readonly options: FakeDifyOptions,
  ) {
    this.base = options.basePath ?? '';
    server.route('POST', `${this.base}/chat-messages`, (req, res) => this.chat(req, res));
    server.route('DELETE', `${this.base}/conversations/:id`, (req) => this.remove(req));
  }

  /** Behaviours for the next chat calls, one each, in order. */
  script(...scripts: DifyCallScript[]): void {
    this.scripts.push(...scripts);
  }

  /** The chat requests received, in order (also the ones refused). */
  get chats(): LoggedRequest[] {
    return this.server.requests.filter((r) => r.method === 'POST' && r.path === `${this.base}/chat-messages`);
  }

  get deletes(): LoggedRequest[] {
    return this.server.requests.filter((r) => r.method === 'DELETE');
  }

  private authorized(req: FakeRequest): boolean {
    return req.headers.authorization === `Bearer ${this.options.apiKey}`;
  }

  private async chat(req: FakeRequest, res: http.ServerResponse): Promise<FakeResponse | undefined> {
    if (!this.authorized(req)) return difyErrors.unauthorized();
    const script = this.scripts.shift() ?? {};
    if (script.respond) return script.respond;
    if (script.hang) return undefined;
    const body = req.body as { query?: string; user?: string; conversation_id?: string; response_mode?: string };
    if (!body?.query || !body.user || body.response_mode !== 'streaming') return difyErrors.invalidParam();
    const conversation = body.conversation_id ? this.conversations.get(body.conversation_id) : this.open(body.user);
    // Conversations are scoped to the user: a valid id with another user is "not found" too.
    const gone = !conversation || conversation.deleted || conversation.user !== body.user;
    if (gone) return difyErrors.conversationMissing();
    await this.stream(res, script, conversation!, body.query);
    return undefined;
  }

  private open(user: string): FakeConversation {
    const conversation = { id: randomUUID(), user, history: [], deleted: false };
    this.conversations.set(conversation.id, conversation);
    return conversation;
  }

  private async stream(res: http.ServerResponse, script: DifyCallScript, conv: FakeConversation, query: string) {
    const text = script.text ?? this.answer(query, conv.history);
    const ids = { task_id: randomUUID(), message_id: randomUUID(), conversation_id: conv.id };
    const delay = script.chunkDelayMs ?? this.chunkDelayMs;
    const send = async (event: string, data: Record<string, unknown>) => {
      if (delay > 0) await sleep(delay);
      const frame = script.eventLines
        ? `event: ${event}\ndata: ${JSON.stringify({ ...ids, ...data })}\n\n`
        : `data: ${JSON.stringify({ event, ...ids, ...data })}\n\n`;
      await writeSplit(res, frame);
    };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    await writeSplit(res, 'event: ping\n\n');
    await send('workflow_started', { workflow_run_id: randomUUID(), data: {} });
    const parts = pieces(text, this.chunkChars);
    let answer = '';
    for (let i = 0; i <= parts.length; i++) {
      const stop = await this.interrupt(res, script, i, send);
      if (stop === 'end') return;
      if (stop !== undefined) {
        // Output moderation replaced the answer: Dify stops the text there and ends the message.
        answer = stop;
        break;
      }
      if (i === parts.length) break;
      answer += parts[i];
      await send('message', { id: ids.message_id, answer: parts[i], created_at: Math.floor(Date.now() / 1000) });
      if (i === 0) await writeSplit(res, 'event: ping\n\n');
    }
    conv.history.push({ q: query, a: answer });
    const usage = { prompt_tokens: query.length, completion_tokens: Array.from(answer).length, total_tokens: 0 };
    await send('message_end', { id: ids.message_id, metadata: { usage, retriever_resources: [] } });
    res.end();
  }

  /** The scripted event due after `sent` chunks: 'end' stops, a string replaces the answer. */
  private async interrupt(
    res: http.ServerResponse,
    script: DifyCallScript,
    sent: number,
    send: (event: string, data: Record<string, unknown>) => Promise<void>,
  ): Promise<'end' | string | undefined> {
    if (script.errorAfter?.after === sent) {
      const { code, message } = script.errorAfter;
      await send('error', { status: 400, code, message });
      res.end();
      return 'end';
    }
    if (script.pauseAfter === sent) {
      await send('workflow_paused', { workflow_run_id: randomUUID(), data: { reasons: ['human_input_required'] } });
      res.end();
      return 'end';
    }
    if (script.cutAfterChunks === sent) {
      await sleep(20); // let the client read what was sent before the reset
      res.socket?.destroy();
      return 'end';
    }
    if (script.hangAfterChunks === sent) return 'end';
    if (script.replaceAfter?.after === sent) {
      await send('message_replace', { answer: script.replaceAfter.text });
      return script.replaceAfter.text;
    }
    return undefined;
  }

  private remove(req: FakeRequest): FakeResponse {
    if (!this.authorized(req)) return difyErrors.unauthorized();
    const conv = this.conversations.get(req.params.id ?? '');
    const user = (req.body as { user?: string } | undefined)?.user;
    if (!conv || conv.deleted || conv.user !== user) return difyErrors.conversationMissing();
    conv.deleted = true;
    return this.deleteStatus === 204 ? { status: 204 } : { status: 200, body: { result: 'success' } };
  }
}

const difyError = (status: number, code: string, message: string): FakeResponse => ({
  status,
  body: { code, message, status },
});

/** Error answers with Dify's `{code, message, status}` body. */
export const difyErrors = {
  unauthorized: () => difyError(401, 'unauthorized', 'Access token is invalid'),
  conversationMissing: () => difyError(404, 'not_found', 'Conversation Not Exists.'),
  invalidParam: () => difyError(400, 'invalid_param', 'query is required'),
  appUnavailable: () => difyError(400, 'app_unavailable', 'App unavailable, please check your app configurations.'),
  notChatApp: () => difyError(400, 'not_chat_app', 'Please check if your app mode matches the right API route.'),
  providerNotInitialized: () =>
    difyError(400, 'provider_not_initialize', 'No valid model provider credentials found.'),
  quotaExceeded: () =>
    difyError(400, 'provider_quota_exceeded', 'Your quota for Dify Hosted Model Provider has been exhausted.'),
  completionError: () =>
    difyError(400, 'completion_request_error', '[tongyi] Error: An error occurred during streaming'),
  rateLimited: (headers: Record<string, string> = {}): FakeResponse => ({
    ...difyError(429, 'too_many_requests', 'Too many requests. Please try again later.'),
    headers,
  }),
  serverError: () => difyError(500, 'internal_server_error', 'The server encountered an internal error.'),
};

function pieces(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}
