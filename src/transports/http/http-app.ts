import { createHash } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../../config/config.js';
import type { ConversationService } from '../../engine/types.js';
import { AppError, ERRORS, type ErrorName, toAppError } from '../../errors.js';
import type { HealthChecks } from '../../health/readiness-monitor.js';
import type { Logger } from '../../logger.js';
import type { BridgeMetrics, QuestionMeter } from '../../metrics/bridge-metrics.js';
import type { QuestionPolicy } from '../../policy/question-policy.js';
import { createApiKeyCheck } from './api-key-auth.js';
import { registerAskRoute } from './ask-route.js';
import { registerMetricsRoute } from './metrics-route.js';
import { parseJsonBody } from './json-body.js';
import { registerWebChat } from './web-chat/web-chat-route.js';

/** What `/healthz` reports besides the HTTP side itself. */
export interface HealthSource {
  storageReachable(): Promise<boolean>;
  /** Stream bot state, or undefined when there is no bot in this process. */
  stream?(): Record<string, unknown>;
  /** The background dependency checks (storage, dingtalk, stream, backend) as they stand. */
  checks?(): HealthChecks;
}

export interface HttpAppDeps {
  readonly config: Config;
  readonly engine: ConversationService;
  /** School policy for `/assistant/ask` (label, checks, audit). */
  readonly policy: QuestionPolicy;
  readonly logger: Logger;
  readonly health: HealthSource;
  /** Served at `GET /metrics` (METRICS_ENABLED); `questions` counts `/assistant/ask`. */
  readonly metrics?: { readonly registry: BridgeMetrics['registry']; readonly questions: QuestionMeter };
}

/** Small enough that no request can strain memory; a 2000-character question fits easily. */
export const BODY_LIMIT_BYTES = 32 * 1024;

/** Builds the HTTP API without listening (tests and main decide where it listens). */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const { config, logger } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.http.trustProxy,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJsonBody);

  const apiKeyValid = createApiKeyCheck(config.http.apiKeys);
  await app.register(cors, {
    origin: config.http.corsOrigins === '*' ? '*' : [...config.http.corsOrigins],
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 600,
  });
  await app.register(rateLimit, {
    global: false,
    max: config.http.rateLimit.max,
    timeWindow: config.http.rateLimit.windowMs,
    // One bucket per valid API key, else per client IP (TRUST_PROXY decides which IP).
    keyGenerator: (req) =>
      config.http.apiKeys.length > 0 && apiKeyValid(req.headers.authorization)
        ? `key:${createHash('sha256').update(req.headers.authorization ?? '').digest('hex').slice(0, 16)}`
        : `ip:${req.ip}`,
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new AppError('RATE_LIMITED', `rate limited; retry after ${ctx.after}`), {
        statusCode: 429,
      }),
  });

  app.addHook('onResponse', async (req, reply) => logRequest(logger, req, reply));
  app.setErrorHandler((err, req, reply) => sendError(logger, req, reply, err as Error));
  app.setNotFoundHandler((_req, reply) => sendCatalogued(reply, 'NOT_FOUND'));

  app.get('/healthz', async (_req, reply) => {
    const storage = await deps.health.storageReachable().catch(() => false);
    const checks: HealthChecks = { storage: { status: 'ok' }, ...deps.health.checks?.() };
    if (!storage) checks.storage = { status: 'failing', reason: 'the session store does not answer (check SESSION_STORAGE)' };
    // Every dependency listed is required: any failing one means questions would fail.
    const healthy = Object.values(checks).every((c) => c.status === 'ok');
    const body = {
      status: healthy ? 'ok' : 'degraded',
      storage: storage ? 'ok' : 'unreachable',
      stream: deps.health.stream?.() ?? { state: 'disabled', leader: false },
      uptimeSeconds: Math.round(process.uptime()),
      checks,
    };
    return reply.code(healthy ? 200 : 503).send(body);
  });

  if (config.webChat.enabled) registerWebChat(app, { corsOrigins: config.http.corsOrigins, logger });

  registerAskRoute(app, {
    engine: deps.engine,
    policy: deps.policy,
    answerTimeoutMs: config.assistant.answerTimeoutMs,
    requireApiKey: config.http.apiKeys.length > 0 ? apiKeyValid : undefined,
    questions: deps.metrics?.questions,
  });
  if (deps.metrics && config.metrics.enabled) registerMetricsRoute(app, { registry: deps.metrics.registry, token: config.metrics.token });
  return app;
}

/** Maps framework errors (body parsing, limits) and our own onto the catalogue. */
function sendError(logger: Logger, req: FastifyRequest, reply: FastifyReply, err: FastifyError | Error): FastifyReply {
  const appError = err instanceof AppError ? err : fromFrameworkError(err as FastifyError);
  if (appError.errorName === 'RATE_LIMITED') {
    const retryAfter = reply.getHeader('retry-after');
    if (retryAfter === undefined) reply.header('retry-after', '60');
  }
  if (appError.spec.status >= 500) {
    logger.error('request failed', { method: req.method, url: req.url, err: String(appError.cause ?? appError) });
  }
  req.failure = appError;
  return sendCatalogued(reply, appError.errorName);
}

function fromFrameworkError(err: FastifyError): AppError {
  const byCode: Record<string, ErrorName> = {
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
    FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
    FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  };
  const name = err.code ? byCode[err.code] : undefined;
  if (name) return new AppError(name, err.message, { cause: err });
  if (err.statusCode === 413) return new AppError('BODY_TOO_LARGE', err.message, { cause: err });
  if (err.statusCode === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', err.message, { cause: err });
  if (err.statusCode === 400) return new AppError('INVALID_JSON', err.message, { cause: err });
  return toAppError(err);
}

export function sendCatalogued(reply: FastifyReply, name: ErrorName): FastifyReply {
  const spec = ERRORS[name];
  return reply.code(spec.status).type('application/json; charset=utf-8').send({ code: spec.code, message: spec.message });
}

function logRequest(logger: Logger, req: FastifyRequest, reply: FastifyReply): void {
  // Probes, page assets and scrapes come often; a refused scrape is still worth a line.
  if (req.url === '/healthz' || req.url.startsWith('/web-chat/') || (req.url === '/metrics' && reply.statusCode === 200)) return;
  logger.info('http request', {
    method: req.method,
    url: req.url.split('?')[0],
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime),
    ...req.logFields,
    ...(req.failure ? { error: req.failure.errorName, detail: req.failure.message } : {}),
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields the route adds to the request's log line (sessionId, threadId, runId). */
    logFields?: Record<string, unknown>;
    failure?: AppError;
  }
}
