import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

export interface ModelHttpClientOptions {
  /** Sockets per host; a streamed answer holds one for its whole length. */
  readonly maxSockets: number;
}

/** One axios instance and its keep-alive agents, shared by every call of a backend. */
export interface ModelHttpClient {
  readonly ax: AxiosInstance;
  /** Frees the pooled sockets (graceful stop, tests). */
  close(): void;
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/**
 * Keep-alive agents let the next question reuse the TLS connection. Statuses are never
 * thrown (the backends map them), redirects are not followed (a redirect means a wrong base
 * URL), and proxies are used only when a proxy variable is set.
 */
export function createModelHttpClient(options: ModelHttpClientOptions): ModelHttpClient {
  const maxSockets = Math.max(1, options.maxSockets);
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
  const ax = axios.create({
    httpAgent,
    httpsAgent,
    maxRedirects: 0,
    validateStatus: () => true,
    // Axios looks the proxy variables up on every request; with none set, say so once.
    ...(PROXY_VARIABLES.some((name) => process.env[name]) ? {} : { proxy: false as const }),
  });
  return {
    ax,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
