import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import type { Config, ProxyTrust } from '../../config/config.js';
import type { ConversationService } from '../../engine/types.js';
import { AppError, ERRORS, type ErrorName, toAppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { BridgeMetrics, QuestionMeter } from '../../metrics/bridge-metrics.js';
import type { QuestionPolicy } from '../../policy/question-policy.js';
import { clipClientText, registerAccessLog } from './access-log.js';
import { createApiKeyAuth } from './api-key-auth.js';
import { registerAskRoute } from './ask-route.js';
import { registerHealthRoute, type HealthSource } from './health-route.js';
import { parseJsonBody } from './json-body.js';
import { registerMetricsRoute } from './metrics-route.js';
import { questionRateLimit, registerRateLimits } from './rate-limits.js';
import { capConnections, clientErrorHandler, serverOptions } from './server-limits.js';
import { registerWebChat } from './web-chat/web-chat-route.js';

export type { HealthSource } from './health-route.js';

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
    trustProxy: trustProxyOption(config.http.trustProxy),
    return503OnClosing: true,
    ...serverOptions(config.hardening),
    clientErrorHandler,
  });
  capConnections(app.server, config.hardening.maxConnections, logger);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJsonBody);
  // Before any route (the plugins' own too): a route keeps the handlers in force when it was added.
  app.setErrorHandler((err, req, reply) => sendError(logger, req, reply, err as Error));
  app.setNotFoundHandler((_req, reply) => sendCatalogued(reply, 'NOT_FOUND'));

  // Hooks run in this order: the access line is armed first, so every request gets one.
  registerAccessLog(app, logger);
  if (config.http.apiKeys.length > 0) {
    const apiKeyOf = createApiKeyAuth(config.http.apiKeys);
    app.addHook('onRequest', async (req) => {
      req.apiKeyId = apiKeyOf(req.headers.authorization);
    });
  }
  const limits = { questions: config.http.rateLimit, other: config.hardening.otherRateLimit };
  await registerRateLimits(app, limits);
  app.addHook('onRequest', refuseBareOptions);
  await app.register(cors, {
    origin: config.http.corsOrigins === '*' ? '*' : [...config.http.corsOrigins],
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization'],
    maxAge: 600,
  });

  registerHealthRoute(app, deps.health);
  if (config.webChat.enabled) registerWebChat(app, { corsOrigins: config.http.corsOrigins, logger });
  registerAskRoute(app, {
    engine: deps.engine,
    policy: deps.policy,
    answerTimeoutMs: config.assistant.answerTimeoutMs,
    requireApiKey: config.http.apiKeys.length > 0,
    routeConfig: questionRateLimit(limits),
    questions: deps.metrics?.questions,
  });
  if (deps.metrics && config.metrics.enabled) registerMetricsRoute(app, { registry: deps.metrics.registry, token: config.metrics.token });
  return app;
}

/**
 * TRUST_PROXY as Fastify takes it. A hop count trusts that many proxies in front, counted from
 * the socket (Fastify itself trusts no one for a bare number); either way the client is read
 * from the right of X-Forwarded-For, never from what the client wrote on its left.
 */
export function trustProxyOption(trust: ProxyTrust): false | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}

/** An OPTIONS request that is not a CORS preflight asks for nothing this service does. */
async function refuseBareOptions(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (req.method !== 'OPTIONS' || (req.headers.origin && req.headers['access-control-request-method'])) return;
  reply.header('allow', 'GET, POST, OPTIONS');
  throw new AppError('METHOD_NOT_ALLOWED', 'OPTIONS without a CORS preflight');
}

/** Maps framework errors (body parsing, limits) and our own onto the catalogue. */
function sendError(logger: Logger, req: FastifyRequest, reply: FastifyReply, err: FastifyError | Error): FastifyReply {
  const appError = err instanceof AppError ? err : fromFrameworkError(err as FastifyError);
  if (appError.errorName === 'RATE_LIMITED') {
    const retryAfter = reply.getHeader('retry-after');
    if (retryAfter === undefined) reply.header('retry-after', '60');
  }
  if (appError.spec.status >= 500) {
    logger.error('request failed', { method: req.method, url: clipClientText(req.url), err: String(appError.cause ?? appError) });
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
