import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors.js';
import { createApiKeyAuth } from './api-key-auth.js';

export interface MetricsRouteOptions {
  readonly registry: Registry;
  /** METRICS_TOKEN: when set, scrapes need `Authorization: Bearer <token>` (compared in constant time). */
  readonly token?: string;
}

/** `GET /metrics` in Prometheus text format (METRICS_ENABLED). */
export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  const keyOf = options.token ? createApiKeyAuth([options.token]) : undefined;
  app.get('/metrics', async (req, reply) => {
    if (keyOf && !keyOf(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', 'metrics scrape without the right METRICS_TOKEN');
    }
    const text = await options.registry.metrics();
    return reply.code(200).type(options.registry.contentType).send(text);
  });
}
