import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { RateLimit } from '../../config/config.js';
import { AppError } from '../../errors.js';

export interface RateLimits {
  /** RATE_LIMIT: questions per caller (its API key when it has a valid one, else its address). */
  readonly questions: RateLimit;
  /** HTTP_RATE_LIMIT: every other request (the page, /healthz, unknown paths, preflights) per caller. */
  readonly other: RateLimit;
}

/**
 * Every request is rate limited per caller, unknown paths, preflights and bare OPTIONS included,
 * so no client can make the service do (or log) unbounded work: `/assistant/ask` by RATE_LIMIT,
 * everything else by HTTP_RATE_LIMIT, as the first thing done with a request. The caller is
 * the API key the request was authenticated with (`req.apiKeyId`, set before this runs), else
 * its address as TRUST_PROXY resolves it (IPv6 by /64, which one household or phone gets whole).
 */
export async function registerRateLimits(app: FastifyInstance, limits: RateLimits): Promise<void> {
  await app.register(rateLimit, {
    // Routes with their own limit (`questionRateLimit`) get it from the plugin; all others below.
    global: false,
    max: limits.other.max,
    timeWindow: limits.other.windowMs,
    keyGenerator: callerOf,
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new AppError('RATE_LIMITED', `rate limited; retry after ${ctx.after}`), { statusCode: 429 }),
  });
  const other = app.rateLimit();
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.rateLimit === undefined) await other.call(app, req, reply);
  });
}

/** The route option that gives `/assistant/ask` its own limit (RATE_LIMIT). */
export function questionRateLimit(limits: RateLimits): { rateLimit: { max: number; timeWindow: number } } {
  return { rateLimit: { max: limits.questions.max, timeWindow: limits.questions.windowMs } };
}

export function callerOf(req: FastifyRequest): string {
  return req.apiKeyId ?? `ip:${normalizeIP(req.ip)}`;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The id of the ASK_API_KEYS key the request carries (never the key), when it carries a valid one. */
    apiKeyId?: string;
  }
}
