import axios, { type AxiosInstance } from 'axios';
import type { Config } from '../config/config.js';
import type { Logger, SecretRedactor } from '../logger.js';
import { DingTalkNetworkError } from './dingtalk-api.js';
import { toDingTalkApiError, toDingTalkNetworkError } from './dingtalk-http-errors.js';
import { startCallDeadline } from './call-deadline.js';

const TOKEN_PATH = '/v1.0/oauth2/accessToken';
/** Refresh this long before expiry (or at half-life when the token lives less than twice this). */
const REFRESH_EARLY_MS = 5 * 60_000;

/** The app's access token, fetched once and shared by every caller until it nears expiry. */
export interface AccessTokenCache {
  /**
   * A valid token; at most one token request is in flight however many callers wait. A caller
   * stops waiting on its signal, or after `timeoutMs` (its own call's share of the question's
   * deadline), without cancelling the request the others wait for.
   */
  get(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<string>;
  /**
   * Forgets `token` after DingTalk said `InvalidAuthentication`, unless a newer token is already
   * cached (several callers that failed with the same old token cause one refresh, not many).
   */
  invalidate(token: string): void;
}

export interface AccessTokenCacheDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Shared axios instance (keep-alive agents); one is created when absent. */
  readonly http?: AxiosInstance;
  readonly now?: () => number;
}

interface Cached {
  readonly token: string;
  readonly refreshAt: number;
  readonly expiresAt: number;
}

export function createAccessTokenCache(deps: AccessTokenCacheDeps): AccessTokenCache {
  const { config, logger, redactor } = deps;
  const now = deps.now ?? Date.now;
  const http = deps.http ?? axios.create({ baseURL: config.dingtalk.apiBase, validateStatus: () => true });
  redactor.add(config.dingtalk.appSecret);
  let cached: Cached | undefined;
  let inflight: Promise<string> | undefined;

  const refresh = (): Promise<string> => {
    inflight ??= fetchToken(http, config, now)
      .then((fresh) => {
        // An expired token is worthless: the redactor may forget it then.
        redactor.add(fresh.token, { expiresAt: fresh.expiresAt });
        cached = fresh;
        logger.debug('dingtalk access token refreshed', { expiresInMs: fresh.expiresAt - now() });
        return fresh.token;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  return {
    async get(options = {}) {
      const t = now();
      if (cached && t < cached.refreshAt) return cached.token;
      if (cached && t < cached.expiresAt) {
        // Still valid: answer now and refresh in the background, so no caller waits for it.
        refresh().catch((err: unknown) =>
          logger.warn('dingtalk access token early refresh failed', { err: String(err) }),
        );
        return cached.token;
      }
      return waitAtMost(refresh(), options.signal, options.timeoutMs);
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

async function fetchToken(http: AxiosInstance, config: Config, now: () => number): Promise<Cached> {
  const { appKey, appSecret, timeoutMs } = config.dingtalk;
  const started = now();
  const deadline = startCallDeadline(timeoutMs);
  let res;
  try {
    res = await http.post(
      TOKEN_PATH,
      { appKey, appSecret },
      { signal: deadline.signal, headers: { 'Content-Type': 'application/json' } },
    );
  } catch (err) {
    throw toDingTalkNetworkError(err, deadline.timedOut(), 'access token request failed');
  } finally {
    deadline.clear();
  }
  if (res.status < 200 || res.status >= 300) {
    throw toDingTalkApiError(res.status, res.headers as Record<string, unknown>, res.data);
  }
  const body = res.data as { accessToken?: unknown; expireIn?: unknown };
  if (typeof body?.accessToken !== 'string' || body.accessToken === '') {
    throw new DingTalkNetworkError('access token answer has no accessToken');
  }
  const lifeMs = (typeof body.expireIn === 'number' && body.expireIn > 0 ? body.expireIn : 7200) * 1000;
  const early = lifeMs > 2 * REFRESH_EARLY_MS ? REFRESH_EARLY_MS : lifeMs / 2;
  return { token: body.accessToken, refreshAt: started + lifeMs - early, expiresAt: started + lifeMs };
}

/** Lets one waiter give up (its signal, its time) without cancelling the shared request the others wait for. */
function waitAtMost<T>(promise: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<T> {
  if (!signal && timeoutMs === undefined) return promise;
  if (signal?.aborted) return Promise.reject(new DingTalkNetworkError('aborted by caller'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DingTalkNetworkError('aborted by caller'));
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => reject(new DingTalkNetworkError('access token request: timed out', { timedOut: true })), Math.max(0, timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}
