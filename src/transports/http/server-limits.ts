import { readFileSync } from 'node:fs';
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { HardeningConfig } from '../../config/config.js';
import { ERRORS } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { TIMED_OUT } from './access-log.js';

/** File descriptors left to everything but client connections (SQLite, logs, DingTalk and model calls). */
const FD_RESERVE = 256;
/** Refused connections are reported at most this often. */
const DROP_REPORT_MS = 60_000;

/**
 * The server options that keep slow and idle clients from holding the service: headers and
 * body within HTTP_REQUEST_TIMEOUT_SECONDS, idle keep-alive connections closed after
 * HTTP_KEEP_ALIVE_SECONDS. There is no socket inactivity timeout: an answered question may
 * keep its socket silent for up to ANSWER_TIMEOUT_SECONDS.
 */
export function serverOptions(limits: HardeningConfig): { requestTimeout: number; keepAliveTimeout: number; http: ServerOptions } {
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveMs,
    http: {
      headersTimeout: limits.requestTimeoutMs,
      // Node looks for requests past those timeouts only this often (30 s by default), so a
      // stalled request would live up to 30 s longer than its timeout.
      connectionsCheckingInterval: checkingIntervalMs(limits.requestTimeoutMs),
    },
  };
}

/** Often enough that a request past its timeout is closed within a quarter of it (at most 1 s later). */
export function checkingIntervalMs(requestTimeoutMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(requestTimeoutMs / 4)));
}

/**
 * Caps open connections (HTTP_MAX_CONNECTIONS, lowered to what the process's open-file limit
 * leaves room for): one more is closed as it arrives, so a flood of connections cannot use up
 * the file descriptors SQLite, the logs and the model calls need. Returns the cap in force.
 */
export function capConnections(server: Server, configured: number, logger: Logger, fdLimit = openFileLimit()): number {
  const cap = fdLimit === undefined ? configured : Math.max(10, Math.min(configured, fdLimit - FD_RESERVE));
  if (cap < configured) {
    logger.warn('HTTP_MAX_CONNECTIONS lowered to fit the open-file limit', { configured, cap, openFileLimit: fdLimit, fix: 'raise the limit (ulimit -n, LimitNOFILE) or lower HTTP_MAX_CONNECTIONS' });
  }
  server.maxConnections = cap;
  let dropped = 0;
  let reportedAt = 0;
  server.on('drop', () => {
    dropped++;
    if (Date.now() - reportedAt < DROP_REPORT_MS) return;
    reportedAt = Date.now();
    logger.warn('HTTP connections over the cap were closed', { cap, closedSinceLastReport: dropped });
    dropped = 0;
  });
  return cap;
}

/** The soft limit on open files (Linux), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Node's answer to a connection that broke the HTTP rules or timed out, in the catalogue's
 * format; a request that did not arrive in time is marked, so its access line says 408.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (timedOut) (socket as Socket & { [TIMED_OUT]?: boolean })[TIMED_OUT] = true;
  const [status, reason, body] = timedOut
    ? [408, 'Request Timeout', { code: ERRORS.REQUEST_TIMEOUT.code, message: ERRORS.REQUEST_TIMEOUT.message }]
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', { code: ERRORS.HEADERS_TOO_LARGE.code, message: ERRORS.HEADERS_TOO_LARGE.message }]
      : [400, 'Bad Request', { code: ERRORS.INVALID_REQUEST.code, message: ERRORS.INVALID_REQUEST.message }];
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy();
}
