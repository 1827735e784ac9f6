import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny real HTTP server on 127.0.0.1 (port 0) that fakes DingTalk's wire. Modules (token,
 * assistant API, Stream gateway, robot API, session webhooks) register routes on it; tests
 * inject latency and failures per route and read the request log.
 */
export interface FakeRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawBody: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  readonly body: any;
  /** Route params from `:name` segments. */
  readonly params: Record<string, string>;
}

export interface FakeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A handler returns a JSON response, or takes over `res` itself (SSE) and returns undefined. */
export type RouteHandler = (
  req: FakeRequest,
  res: http.ServerResponse,
) => FakeResponse | undefined | Promise<FakeResponse | undefined>;

/** Injected behaviour for requests matching `method path-pattern`; consumed once per `times`. */
export interface Injection {
  readonly method: string;
  readonly path: string | RegExp;
  /** How many matching requests it applies to (default: all). */
  times?: number;
  /** Delay before handling (or before the injected response). */
  readonly delayMs?: number;
  /** Replace the route's answer. */
  readonly respond?: FakeResponse;
  /** Destroy the socket without answering (connection reset). */
  readonly reset?: boolean;
  /** Never answer (the client's timeout must fire). */
  readonly hang?: boolean;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly keys: string[];
  readonly handler: RouteHandler;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
  readonly at: number;
}

export class FakeHttpServer {
  readonly requests: LoggedRequest[] = [];
  private readonly routes: Route[] = [];
  private readonly injections: Injection[] = [];
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly sockets = new Set<import('node:net').Socket>();
  /** Latency added to every request (ms). */
  latencyMs = 0;

  constructor() {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.baseUrl;
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The underlying server, for modules that attach a WebSocket server to it. */
  get httpServer(): http.Server {
    return this.server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Registers `handler` for `method` and a path like `/v1.0/assistant/threads/:threadId`. */
  route(method: string, path: string, handler: RouteHandler): void {
    const keys: string[] = [];
    const source = path.replace(/:(\w+)/g, (_m, k: string) => {
      keys.push(k);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, handler });
  }

  inject(injection: Injection): void {
    this.injections.push(injection);
  }

  clearInjections(): void {
    this.injections.length = 0;
  }

  /** Requests whose method and path match, e.g. `count('POST', /\/runs$/)`. */
  count(method: string, path: string | RegExp): number {
    return this.requests.filter((r) => r.method === method && matches(path, r.path)).length;
  }

  private takeInjection(method: string, path: string): Injection | undefined {
    const i = this.injections.find((x) => x.method === method && matches(x.path, path));
    if (!i) return undefined;
    if (i.times !== undefined && --i.times <= 0) this.injections.splice(this.injections.indexOf(i), 1);
    return i;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const body = parseJson(rawBody);
    this.requests.push({
      method,
      path: url.pathname,
      query: url.search,
      headers: req.headers,
      body,
      at: Date.now(),
    });
    const injection = this.takeInjection(method, url.pathname);
    const delay = (injection?.delayMs ?? 0) + this.latencyMs;
    if (delay > 0) await sleep(delay);
    if (injection?.hang) return;
    if (injection?.reset) {
      req.socket.destroy();
      return;
    }
    if (injection?.respond) return send(res, injection.respond);
    for (const route of this.routes) {
      const m = route.method === method ? route.pattern.exec(url.pathname) : null;
      if (!m) continue;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      try {
        const out = await route.handler(
          { method, path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, body, params },
          res,
        );
        if (out) send(res, out);
      } catch (err) {
        send(res, { status: 500, body: { code: 'fake.crash', message: String(err) } });
      }
      return;
    }
    send(res, { status: 404, body: { code: 'NotFound', message: `no fake route ${method} ${url.pathname}` } });
  }
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

function send(res: http.ServerResponse, out: FakeResponse): void {
  if (res.headersSent || res.destroyed) return;
  const payload = out.body === undefined ? '' : JSON.stringify(out.body);
  res.writeHead(out.status, { 'content-type': 'application/json;charset=utf-8', ...out.headers });
  res.end(payload);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function parseJson(raw: string): any {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** DingTalk's gateway error body: `{code, requestid, message}` (lowercase requestid). */
export function dingError(status: number, code: string, message: string): FakeResponse {
  return { status, body: { code, requestid: `req-${Math.random().toString(16).slice(2)}`, message } };
}
