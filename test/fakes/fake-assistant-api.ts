import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { dingError, sleep, type FakeHttpServer, type FakeRequest, type FakeResponse } from './fake-http-server.js';
import { planDeltas, SseWriter } from './fake-assistant-sse.js';
import type { FakeTokenApi } from './fake-token-api.js';

/**
 * A protocol-faithful fake of DingTalk's AI assistant Threads API (reference §2): threads,
 * messages and runs with the real wire format (camelCase, epoch ms, `thread_message_<hex>`
 * ids, HTTP 500 + `code` business errors), streaming and polled runs, and failure injection.
 */
export type FakeEndpoint =
  | 'createThread'
  | 'retrieveThread'
  | 'deleteThread'
  | 'addMessage'
  | 'listMessages'
  | 'createRun'
  | 'retrieveRun'
  | 'listRuns';

export interface FakeAnswerMessage {
  readonly role?: 'assistant' | 'tool';
  /** Shorthand for one text item. */
  readonly text?: string;
  /** Raw content items (to test unknown item types). */
  readonly content?: readonly unknown[];
}

export type FakeAnswerFn = (question: string, ctx: { threadId: string; runId: string }) => string | FakeAnswerMessage[];

/** How one run behaves; queued with `scriptNextRun`, else the defaults apply. */
export interface RunScript {
  readonly durationMs?: number;
  /** The run ends `failed` with this lastErrorMsg. */
  readonly failWith?: string;
  /** Ends with this status instead (e.g. `expired`, which the docs never list). */
  readonly endStatus?: string;
  /** Stays in_progress forever (its SSE stream never ends). */
  readonly neverFinish?: boolean;
  /** SSE only: the connection is cut after this many events; the run itself goes on. */
  readonly cutStreamAfterEvents?: number;
}

export interface FakeAssistantOptions {
  readonly tokens: FakeTokenApi;
  readonly assistantId?: string;
  /** How long a run takes (ms); default 100. */
  readonly runDurationMs?: number;
  readonly answer?: FakeAnswerFn;
  readonly deltaMode?: 'overwrite' | 'append';
  /** Blank line after each SSE event (standard); false writes the doc sample literally. */
  readonly sseBlankLines?: boolean;
  /** How many deltas an answer is streamed in (default 3), spread over the run's duration. */
  readonly deltaCount?: number;
}

interface WireMessage {
  readonly id: string;
  readonly threadId: string;
  readonly createdAt: number;
  readonly role: 'user' | 'assistant' | 'tool';
  readonly content: readonly unknown[];
  readonly assistantId?: string;
  readonly runId?: string;
}

export interface FakeRun {
  readonly id: string;
  readonly threadId: string;
  readonly assistantId: string;
  readonly createdAt: number;
  readonly script: RunScript;
  readonly durationMs: number;
  /** Answer messages, with ids fixed at creation so SSE and list agree. */
  readonly answers: ReadonlyArray<{ id: string; role: 'assistant' | 'tool'; content: readonly unknown[]; text: string }>;
  status?: string;
  completedAt?: number;
  failedAt?: number;
  lastErrorMsg?: string;
  /** Date.now() when its first text delta was about to be written (SSE only). */
  firstDeltaAt?: number;
}

export interface FakeThread {
  readonly id: string;
  readonly createdAt: number;
  readonly messages: WireMessage[];
  readonly runs: FakeRun[];
  lastStamp: number;
}

interface Failure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  times: number;
}

interface Drop {
  readonly mode: 'reset' | 'hang';
  times: number;
}

const hex = () => randomBytes(16).toString('hex');
const textItem = (value: string) => ({ type: 'text', text: { value, annotations: {} } });

export class FakeAssistantApi {
  readonly assistantId: string;
  runDurationMs: number;
  answer: FakeAnswerFn;
  deltaMode: 'overwrite' | 'append';
  sseBlankLines: boolean;
  deltaCount: number;
  readonly threads = new Map<string, FakeThread>();
  /** Threads deleted through the API (reset, expiry), kept for assertions only. */
  readonly deletedThreads = new Map<string, FakeThread>();
  readonly calls: Record<FakeEndpoint, number> = {
    createThread: 0,
    retrieveThread: 0,
    deleteThread: 0,
    addMessage: 0,
    listMessages: 0,
    createRun: 0,
    retrieveRun: 0,
    listRuns: 0,
  };
  private readonly scripts: RunScript[] = [];
  private readonly failures = new Map<FakeEndpoint, Failure[]>();
  private readonly drops = new Map<FakeEndpoint, Drop[]>();
  private readonly tokens: FakeTokenApi;

  constructor(server: FakeHttpServer, options: FakeAssistantOptions) {
    this.tokens = options.tokens;
    this.assistantId = options.assistantId ?? 'd748a1b2c3d4e5f60718293a4b5c6d7e';
    this.runDurationMs = options.runDurationMs ?? 100;
    this.answer = options.answer ?? ((q) => `答：${q}`);
    this.deltaMode = options.deltaMode ?? 'overwrite';
    this.sseBlankLines = options.sseBlankLines ?? true;
    this.deltaCount = options.deltaCount ?? 3;
    const base = '/v1.0/assistant/threads';
    this.on(server, 'POST', base, 'createThread', () => this.createThread());
    this.on(server, 'GET', `${base}/:threadId`, 'retrieveThread', (req) => this.retrieveThread(req));
    this.on(server, 'DELETE', `${base}/:threadId`, 'deleteThread', (req) => this.deleteThread(req));
    this.on(server, 'POST', `${base}/:threadId/messages`, 'addMessage', (req) => this.addMessage(req));
    this.on(server, 'GET', `${base}/:threadId/messages`, 'listMessages', (req) => this.listMessages(req));
    this.on(server, 'POST', `${base}/:threadId/runs`, 'createRun', (req, res, dropped) => this.createRun(req, res, dropped));
    this.on(server, 'GET', `${base}/:threadId/runs/:runId`, 'retrieveRun', (req) => this.retrieveRun(req));
    this.on(server, 'GET', `${base}/:threadId/runs`, 'listRuns', (req) => this.listRuns(req));
  }

  /** The next run created behaves like this (queued in order). */
  scriptNextRun(script: RunScript): void {
    this.scripts.push(script);
  }

  /** The next `times` calls to `endpoint` answer this error before doing anything. */
  failNext(endpoint: FakeEndpoint, failure: Partial<Omit<Failure, 'times'>> & { times?: number } = {}): void {
    const list = this.failures.get(endpoint) ?? [];
    list.push({
      status: failure.status ?? 500,
      code: failure.code ?? 'system.error',
      message: failure.message ?? '系统繁忙，请稍后重试',
      times: failure.times ?? 1,
    });
    this.failures.set(endpoint, list);
  }

  /** The next `times` calls to `endpoint` take effect, but the answer is lost (reset or hang). */
  dropNextResponse(endpoint: FakeEndpoint, mode: 'reset' | 'hang', times = 1): void {
    const list = this.drops.get(endpoint) ?? [];
    list.push({ mode, times });
    this.drops.set(endpoint, list);
  }

  /** The user messages of a thread (deleted ones too), oldest first. */
  userMessages(threadId: string): string[] {
    const thread = this.threads.get(threadId) ?? this.deletedThreads.get(threadId);
    return (thread?.messages ?? []).filter((m) => m.role === 'user').map((m) => textOf(m.content));
  }

  runsOf(threadId: string): FakeRun[] {
    return this.threads.get(threadId)?.runs ?? [];
  }

  /** Current status of a run (settling it when its time is up). */
  statusOf(thread: FakeThread, run: FakeRun): string {
    if (run.status === undefined && !run.script.neverFinish && Date.now() >= run.createdAt + run.durationMs) {
      this.settle(thread, run);
    }
    if (run.status !== undefined) return run.status;
    return Date.now() < run.createdAt + Math.min(20, run.durationMs / 5) ? 'queued' : 'in_progress';
  }

  private on(
    server: FakeHttpServer,
    method: string,
    path: string,
    endpoint: FakeEndpoint,
    handler: (
      req: FakeRequest,
      res: http.ServerResponse,
      dropped: boolean,
    ) => FakeResponse | undefined | Promise<FakeResponse | undefined>,
  ): void {
    server.route(method, path, async (req, res) => {
      this.calls[endpoint]++;
      const denied = this.tokens.checkAuth(req);
      if (denied) return denied;
      const failure = take(this.failures, endpoint);
      if (failure) return dingError(failure.status, failure.code, failure.message);
      const drop = take(this.drops, endpoint);
      const out = await handler(req, res, drop !== undefined);
      if (!drop) return out;
      if (drop.mode === 'reset') res.socket?.destroy();
      return undefined; // 'hang': the action happened, the answer never comes
    });
  }

  private createThread(): FakeResponse {
    const thread: FakeThread = { id: `thread_message_${hex()}`, createdAt: Date.now(), messages: [], runs: [], lastStamp: 0 };
    this.threads.set(thread.id, thread);
    return ok(threadWire(thread));
  }

  private retrieveThread(req: FakeRequest): FakeResponse {
    const thread = this.threads.get(req.params.threadId!);
    return thread ? ok(threadWire(thread)) : threadMissing();
  }

  /** Reference §2.1 (D2): `{id, deleted: true, object: "thread.deleted"}`. */
  private deleteThread(req: FakeRequest): FakeResponse {
    const id = req.params.threadId!;
    const thread = this.threads.get(id);
    if (!thread) return threadMissing();
    this.threads.delete(id);
    this.deletedThreads.set(id, thread);
    return ok({ id, deleted: true, object: 'thread.deleted' });
  }

  private addMessage(req: FakeRequest): FakeResponse {
    const thread = this.threads.get(req.params.threadId!);
    if (!thread) return threadMissing();
    const body = (req.body ?? {}) as { role?: unknown; content?: unknown };
    if (body.role !== 'user') return dingError(500, 'message.role.error', '消息角色错误');
    if (typeof body.content !== 'string' || body.content === '' || body.content.length > 4000) {
      return dingError(500, 'message.content.invalid', '消息内容不合法'); // code is our guess
    }
    const message: WireMessage = {
      id: `message_${hex()}`,
      threadId: thread.id,
      createdAt: stamp(thread),
      role: 'user',
      content: [textItem(body.content)],
    };
    thread.messages.push(message);
    return ok(messageWire(message));
  }

  private listMessages(req: FakeRequest): FakeResponse {
    const thread = this.threads.get(req.params.threadId!);
    if (!thread) return threadMissing();
    const page = readPage(req, 'message');
    if ('status' in page) return page;
    for (const run of thread.runs) this.statusOf(thread, run);
    const runId = req.query.get('runId');
    const data = thread.messages.filter((m) => !runId || m.runId === runId).map(messageWire);
    if (page.order === 'desc') data.reverse();
    return ok({ data: data.slice(0, page.limit), object: 'list' });
  }

  private createRun(
    req: FakeRequest,
    res: http.ServerResponse,
    dropped: boolean,
  ): FakeResponse | undefined | Promise<undefined> {
    const thread = this.threads.get(req.params.threadId!);
    if (!thread) return threadMissing();
    const body = (req.body ?? {}) as { assistantId?: unknown; stream?: unknown };
    if (body.assistantId !== this.assistantId) return dingError(500, 'run.assistantparam.error', '助理参数错误');
    const question = [...thread.messages].reverse().find((m) => m.role === 'user');
    if (!question) return dingError(500, 'message.not.user', '没有用户消息');
    if (thread.messages.at(-1)!.role !== 'user') return dingError(500, 'run.lastmessage.invalid', '最后一条消息不是用户消息');
    const run = this.newRun(thread, textOf(question.content));
    thread.runs.push(run);
    // A dropped answer: the run exists and goes on, but no stream event ever reaches the client.
    if (body.stream === true) return dropped ? undefined : this.streamRun(thread, run, res);
    return ok(runWire(run, this.statusOf(thread, run)));
  }

  private retrieveRun(req: FakeRequest): FakeResponse {
    const thread = this.threads.get(req.params.threadId!);
    if (!thread) return threadMissing();
    const run = thread.runs.find((r) => r.id === req.params.runId);
    if (!run) return dingError(500, 'run.not.exist', '运行任务不存在'); // code is our guess
    return ok(runWire(run, this.statusOf(thread, run)));
  }

  private listRuns(req: FakeRequest): FakeResponse {
    const thread = this.threads.get(req.params.threadId!);
    if (!thread) return threadMissing();
    const page = readPage(req, 'run');
    if ('status' in page) return page;
    const data = thread.runs.map((r) => runWire(r, this.statusOf(thread, r)));
    if (page.order === 'desc') data.reverse();
    return ok({ data: data.slice(0, page.limit), object: 'list' });
  }

  private newRun(thread: FakeThread, question: string): FakeRun {
    const script = this.scripts.shift() ?? {};
    const id = `run_${hex()}`;
    const raw = this.answer(question, { threadId: thread.id, runId: id });
    const list: FakeAnswerMessage[] = typeof raw === 'string' ? [{ text: raw }] : raw;
    const answers = list.map((m) => {
      const content = m.content ?? [textItem(m.text ?? '')];
      return { id: `message_${hex()}`, role: m.role ?? 'assistant', content, text: textOf(content) } as const;
    });
    return {
      id,
      threadId: thread.id,
      assistantId: this.assistantId,
      createdAt: stamp(thread),
      script,
      durationMs: script.durationMs ?? this.runDurationMs,
      answers,
    };
  }

  /** Ends a run: a completed run adds its answer messages to the thread. */
  private settle(thread: FakeThread, run: FakeRun): void {
    if (run.status !== undefined) return;
    if (run.script.failWith !== undefined) {
      run.status = 'failed';
      run.failedAt = Date.now();
      run.lastErrorMsg = run.script.failWith;
      return;
    }
    run.status = run.script.endStatus ?? 'completed';
    if (run.status !== 'completed') return;
    run.completedAt = Date.now();
    for (const a of run.answers) {
      thread.messages.push({ id: a.id, threadId: thread.id, createdAt: stamp(thread), role: a.role, content: a.content, assistantId: run.assistantId, runId: run.id });
    }
  }

  private async streamRun(thread: FakeThread, run: FakeRun, res: http.ServerResponse): Promise<undefined> {
    const w = new SseWriter(res, this.sseBlankLines);
    w.open();
    const cutAfter = run.script.cutStreamAfterEvents ?? Infinity;
    const emit = async (name: string, data: unknown): Promise<boolean> => {
      if (w.written >= cutAfter) w.cut();
      if (w.closed) return false;
      await w.event(name, data);
      return !w.closed;
    };
    if (!(await emit('thread.run.created', runEvent(run, 'in_progress')))) return;
    const steps = run.answers.reduce((n, a) => n + 1 + planDeltas(a.text, this.deltaMode, this.deltaCount).length, 0);
    const pause = Math.max(1, Math.floor((run.durationMs * 0.8) / Math.max(steps, 1)));
    for (const a of run.answers) {
      const created = { createAt: Date.now(), message: { content: '', contentType: 'text', role: a.role }, messageId: a.id, threadId: thread.id };
      if (!(await emit('thread.message.created', created))) return;
      for (const value of planDeltas(a.text, this.deltaMode, this.deltaCount)) {
        await sleep(pause);
        run.firstDeltaAt ??= Date.now();
        const delta = { mode: this.deltaMode, delta: { role: a.role, text: { value }, type: 'text' }, messageId: a.id };
        if (!(await emit('thread.message.delta', delta))) return;
      }
    }
    if (run.script.neverFinish) return; // the stream stays open until the client gives up
    // A timer may fire a millisecond early by Date.now(): wait until the run is really over.
    while (Date.now() < run.createdAt + run.durationMs) await sleep(Math.max(1, run.createdAt + run.durationMs - Date.now()));
    const status = this.statusOf(thread, run);
    if (status === 'completed') {
      for (const a of run.answers) {
        const done = { createAt: Date.now(), deleted: 0, message: { content: a.text, role: a.role }, messageId: a.id, runId: run.id, threadId: thread.id };
        if (!(await emit('thread.message.completed', done))) return;
      }
      if (!(await emit('thread.run.completed', runEvent(run, 'completed')))) return;
    } else {
      // Failure events are undocumented; this is our guess at their shape.
      const failed = { ...runEvent(run, status), lastErrorMsg: run.lastErrorMsg };
      if (!(await emit(status === 'failed' ? 'thread.run.failed' : `thread.run.${status}`, failed))) return;
    }
    if (await emit('done', '[DONE]')) w.end();
  }
}

export function installFakeAssistantApi(server: FakeHttpServer, options: FakeAssistantOptions): FakeAssistantApi {
  return new FakeAssistantApi(server, options);
}

function take<T extends { times: number }>(map: Map<FakeEndpoint, T[]>, endpoint: FakeEndpoint): T | undefined {
  const list = map.get(endpoint);
  const item = list?.[0];
  if (item && --item.times <= 0) list!.shift();
  return item;
}

/** Strictly increasing createdAt within a thread, so ordering by it is unambiguous. */
function stamp(thread: FakeThread): number {
  thread.lastStamp = Math.max(Date.now(), thread.lastStamp + 1);
  return thread.lastStamp;
}

function readPage(req: FakeRequest, kind: 'message' | 'run'): { limit: number; order: string } | FakeResponse {
  const rawLimit = req.query.get('limit');
  const limit = rawLimit === null ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return dingError(500, `${kind}.limit.invalid`, 'limit 不合法');
  const order = req.query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') return dingError(500, `${kind}.order.invalid`, 'order 不合法');
  return { limit, order };
}

function textOf(content: readonly unknown[]): string {
  return content
    .map((c) => (c as { type?: string; text?: { value?: string } }).type === 'text' ? ((c as { text: { value?: string } }).text.value ?? '') : '')
    .join('');
}

const ok = (body: unknown): FakeResponse => ({ status: 200, body });
const threadMissing = () => dingError(500, 'thread.not.exist', '线程不存在');
const threadWire = (t: FakeThread) => ({ id: t.id, createdAt: t.createdAt, metadata: {}, object: 'thread' });

function messageWire(m: WireMessage) {
  return { ...m, object: 'thread.message', metadata: {} };
}

function runWire(r: FakeRun, status: string) {
  return {
    id: r.id,
    createdAt: r.createdAt,
    threadId: r.threadId,
    assistantId: r.assistantId,
    status,
    lastErrorMsg: r.lastErrorMsg,
    expiresAt: r.createdAt + 600_000,
    startedAt: r.createdAt,
    completedAt: r.completedAt,
    failedAt: r.failedAt,
    metadata: {},
    object: 'thread.run',
  };
}

function runEvent(r: FakeRun, statusEnum: string) {
  return {
    assistantId: r.assistantId,
    createAt: r.createdAt,
    expiredAt: r.createdAt + 600_000,
    runId: r.id,
    startedAt: r.createdAt,
    statusEnum,
    threadId: r.threadId,
  };
}
