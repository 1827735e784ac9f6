import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppError } from '../../errors.js';
import { clipForLog, type Logger } from '../../logger.js';

/** Client-supplied text (the URL, the address a proxy reports, error details) is cut to this before any log line. */
export const CLIENT_TEXT_MAX_CHARS = 200;

/** The status an access line gives a request whose client went away before its answer (nginx's convention). */
export const CLIENT_GONE_STATUS = 499;

/** Marks a socket Node closed because its request did not arrive in time (see `server-limits.ts`). */
export const TIMED_OUT = Symbol('request timed out');

/** Cuts client-supplied text for a log line. */
export const clipClientText = (text: string): string => clipForLog(text, CLIENT_TEXT_MAX_CHARS);

/**
 * Exactly one access line per request, whatever happened to it: answered, refused, timed out
 * (408) or abandoned by its client (499), with the client's address, the status and the time
 * taken. Written when the response closes, which every request's response does exactly once.
 */
export function registerAccessLog(app: FastifyInstance, logger: Logger): void {
  app.addHook('onRequest', async (req, reply) => {
    const started = performance.now();
    const socket = req.raw.socket as Socket & { [TIMED_OUT]?: boolean };
    const res = reply.raw;
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : socket[TIMED_OUT] ? 408 : CLIENT_GONE_STATUS;
      logger.info('http request', accessFields(req, status, Math.round(performance.now() - started)));
    });
  });
}

function accessFields(req: FastifyRequest, status: number, durationMs: number): Record<string, unknown> {
  return {
    method: req.method,
    url: clipClientText(req.url.split('?')[0] ?? ''),
    status,
    durationMs,
    ip: clipClientText(String(req.ip)),
    ...req.logFields,
    ...(req.failure ? { error: req.failure.errorName, detail: clipClientText(req.failure.message) } : {}),
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields the route adds to the request's access line (sessionId, policy outcome...). */
    logFields?: Record<string, unknown>;
    /** The catalogue error the request was refused with (for its access line). */
    failure?: AppError;
  }
}
