import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpConversationKey } from '../../engine/conversation-key.js';
import type { ConversationService } from '../../engine/types.js';
import { AppError, toAppError } from '../../errors.js';
import type { QuestionMeter } from '../../metrics/bridge-metrics.js';
import { askOutcome } from './ask-outcome.js';
import { parseAskBody } from './ask-request.js';

export interface AskRouteOptions {
  readonly engine: ConversationService;
  readonly answerTimeoutMs: number;
  /** Present when ASK_API_KEYS is set. */
  readonly requireApiKey?: (authorization: string | undefined) => boolean;
  /** Counts every request once, by how it ended (including those refused before the handler). */
  readonly questions?: QuestionMeter;
}

/** `POST /assistant/ask {question, sessionId?} -> {code: 0, answer, sessionId}` */
export function registerAskRoute(app: FastifyInstance, options: AskRouteOptions): void {
  const { engine, requireApiKey } = options;
  // Checked before the body is read, so an unauthenticated caller learns nothing about bodies.
  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    if (requireApiKey && !requireApiKey(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED');
    }
  };
  const count = (req: FastifyRequest, reply: FastifyReply, error: AppError | undefined) => {
    if (req.questionCounted) return;
    req.questionCounted = true;
    options.questions?.count(askOutcome(error?.errorName), Date.now() - reply.elapsedTime);
  };
  // A request refused before the handler (API key, rate limit, body) is counted when answered.
  const onResponse = async (req: FastifyRequest, reply: FastifyReply) => count(req, reply, req.failure);
  app.post('/assistant/ask', { config: { rateLimit: {} }, onRequest, onResponse }, async (req, reply) => {
    // The deadline counts from arrival: time queued behind the same session's questions counts.
    const deadline = Date.now() + options.answerTimeoutMs;
    try {
      if (!/\bjson\b/i.test(req.headers['content-type'] ?? '')) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
      const body = parseAskBody(req.body);
      const sessionId = await continueOrStartSession(engine, body.sessionId);
      req.logFields = { sessionId };
      const result = await engine.ask({
        key: httpConversationKey(sessionId),
        text: body.question,
        deadline,
        logContext: { sessionId, transport: 'http' },
      });
      req.logFields = { sessionId, newConversation: result.newConversation };
      count(req, reply, undefined);
      return reply.code(200).send({ code: 0, answer: result.answer, sessionId });
    } catch (err) {
      // Counted here, not at the response: a caller that hung up still asked a question.
      count(req, reply, toAppError(err));
      throw err;
    }
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    questionCounted?: boolean;
  }
}

/** A known, live sessionId continues; an unknown or expired one gets a fresh id. */
async function continueOrStartSession(engine: ConversationService, sessionId: string | undefined): Promise<string> {
  if (sessionId && (await engine.hasSession(httpConversationKey(sessionId)))) return sessionId;
  return randomUUID();
}
