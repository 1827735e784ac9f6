import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { Config } from '../config/config.js';
import type { Logger, SecretRedactor } from '../logger.js';
import { dingtalkApiKind, type BridgeMetrics } from '../metrics/bridge-metrics.js';
import { createAccessTokenCache, type AccessTokenCache } from './access-token.js';
import { DingTalkApiError, DingTalkNetworkError, type DingTalkApi, type DingTalkRequest } from './dingtalk-api.js';
import { toDingTalkApiError, toDingTalkNetworkError } from './dingtalk-http-errors.js';
import { startCallDeadline } from './call-deadline.js';
import { readBoundedBody } from '../read-bounded-body.js';

export interface DingTalkApiDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Replaces the token cache (tests). */
  readonly tokens?: AccessTokenCache;
  /** Counts every call by API family (the monthly quota meter). */
  readonly metrics?: BridgeMetrics;
}

/** The client plus `close()`, which frees its pooled sockets (graceful stop, tests). */
export interface DingTalkHttpClient extends DingTalkApi {
  /**
   * Resolves once DingTalk accepts DING_APP_KEY / DING_APP_SECRET: the cached access token, or a
   * fresh one (doctor and health checks). Throws like the token request does.
   */
  checkCredentials(options?: { signal?: AbortSignal }): Promise<void>;
  close(): void;
}

const MAX_ERROR_BODY = 64 * 1024;

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/**
 * `DingTalkApi` over axios. Keep-alive agents let a follow-up question reuse the TLS connection;
 * every call has a timeout; a rejected token is refreshed and the call retried once. Generic on
 * purpose: the assistant backend and the robot sender share it.
 */
export function createDingTalkApi(deps: DingTalkApiDeps): DingTalkHttpClient {
  const { config, logger } = deps;
  // A streamed run holds its connection for the whole run: room for every run slot plus the
  // short calls (add message, create thread, robot sends) made meanwhile.
  const maxSockets = config.assistant.maxConcurrentRuns + 32;
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
  const ax = axios.create({
    baseURL: config.dingtalk.apiBase,
    httpAgent,
    httpsAgent,
    maxRedirects: 0,
    validateStatus: () => true,
    // Axios looks the proxy variables up on every request; with none set, say so once.
    ...(PROXY_VARIABLES.some((name) => process.env[name]) ? {} : { proxy: false as const }),
  });
  const { metrics } = deps;
  if (metrics) {
    // Every request through this client (token, OpenAPI, webhook) counts against the quota.
    ax.interceptors.request.use((req) => {
      const path = new URL(req.url ?? '', config.dingtalk.apiBase).pathname;
      metrics.dingtalkApiCalls.inc({ api: dingtalkApiKind((req.method ?? 'get').toUpperCase(), path) });
      return req;
    });
  }
  const tokens = deps.tokens ?? createAccessTokenCache({ ...deps, http: ax });

  async function call(req: DingTalkRequest, stream: boolean): Promise<AxiosResponse> {
    for (let attempt = 1; ; attempt++) {
      // Waiting for the token is part of the call: a hung token endpoint uses up this call's
      // time (its share of the question's deadline), never more.
      const until = Date.now() + (req.timeoutMs ?? config.dingtalk.timeoutMs);
      const token = await tokens.get({ signal: req.signal, timeoutMs: until - Date.now() });
      const res = await send(ax, config, { ...req, timeoutMs: Math.max(1, until - Date.now()) }, token, stream);
      if (res.status >= 200 && res.status < 300) return res;
      const body = stream ? await readErrorBody(res.data as Readable, config.dingtalk.timeoutMs) : res.data;
      const err = toDingTalkApiError(res.status, res.headers as Record<string, unknown>, body);
      if (isBadToken(err) && attempt === 1) {
        logger.info('dingtalk rejected the access token; refreshing once', { path: req.path });
        tokens.invalidate(token);
        continue;
      }
      logger.debug('dingtalk call answered an error', {
        method: req.method,
        path: req.path,
        status: err.status,
        code: err.code,
        requestId: err.requestId,
      });
      throw err;
    }
  }

  return {
    async request<T>(req: DingTalkRequest): Promise<T> {
      const res = await call(req, false);
      return res.data as T;
    },
    async openStream(req: DingTalkRequest): Promise<NodeJS.ReadableStream> {
      const res = await call(req, true);
      const body = res.data as Readable;
      // The reading deadline is the caller's; only the caller's signal still ends the stream.
      if (req.signal) {
        const onAbort = () => body.destroy(new DingTalkNetworkError('aborted by caller'));
        if (req.signal.aborted) onAbort();
        else req.signal.addEventListener('abort', onAbort, { once: true });
        body.once('close', () => req.signal?.removeEventListener('abort', onAbort));
      }
      return body;
    },
    async postToWebhook(url: string, body: unknown, timeoutMs = config.dingtalk.timeoutMs) {
      const deadline = startCallDeadline(timeoutMs);
      try {
        const res = await ax.post(url, body, { signal: deadline.signal, headers: { 'Content-Type': 'application/json' } });
        return { status: res.status, data: res.data as unknown };
      } catch (err) {
        throw toDingTalkNetworkError(err, deadline.timedOut(), 'webhook POST failed');
      } finally {
        deadline.clear();
      }
    },
    async checkCredentials(options = {}) {
      await tokens.get(options);
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** One HTTP exchange bounded by the timeout and the caller's signal (for streams: until headers). */
async function send(
  ax: AxiosInstance,
  config: Config,
  req: DingTalkRequest,
  token: string,
  stream: boolean,
): Promise<AxiosResponse> {
  const deadline = startCallDeadline(req.timeoutMs ?? config.dingtalk.timeoutMs, req.signal);
  try {
    return await ax.request({
      method: req.method,
      url: req.path,
      params: req.query,
      data: req.body,
      headers: { 'Content-Type': 'application/json', 'x-acs-dingtalk-access-token': token },
      responseType: stream ? 'stream' : 'json',
      signal: deadline.signal,
    });
  } catch (err) {
    throw toDingTalkNetworkError(err, deadline.timedOut(), `${req.method} ${req.path} failed`);
  } finally {
    deadline.clear();
  }
}

function isBadToken(err: DingTalkApiError): boolean {
  return (err.status === 400 || err.status === 401) && err.code === 'InvalidAuthentication';
}

/** Reads a (small) error body of a streamed request so it maps like any other error. */
async function readErrorBody(body: Readable, timeoutMs: number): Promise<string> {
  return (await readBoundedBody(body, { maxBytes: MAX_ERROR_BODY, timeoutMs, keepPartial: true })).text;
}
