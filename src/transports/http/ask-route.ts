import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpConversationKey } from '../../engine/conversation-key.js';
import type { ConversationService } from '../../engine/types.js';
import { AppError, toAppError } from '../../errors.js';
import type { QuestionMeter, QuestionOutcome } from '../../metrics/bridge-metrics.js';
import { failureOutcome } from '../../policy/failure-outcome.js';
import type { QuestionPolicy, QuestionRecord } from '../../policy/question-policy.js';
import { askOutcome } from './ask-outcome.js';
import { parseAskBody } from './ask-request.js';

export interface AskRouteOptions {
  readonly engine: ConversationService;
  /** School policy: role prompt (ASK_API_ROLE), crisis and blocked-word checks, label, audit. */
  readonly policy: QuestionPolicy;
  readonly answerTimeoutMs: number;
  /** Present when ASK_API_KEYS is set. */
  readonly requireApiKey?: (authorization: string | undefined) => boolean;
  /** Counts every request once, by how it ended (including those refused before the handler). */
  readonly questions?: QuestionMeter;
}

/**
 * `POST /assistant/ask {question, sessionId?} -> {code: 0, answer, sessionId, aiGenerated}`. The
 * answer ends with the AI label; a crisis message gets the caring reply (`aiGenerated: false`)
 * and never reaches the model; a blocked question or answer is 422. One audit record per question.
 */
export function registerAskRoute(app: FastifyInstance, options: AskRouteOptions): void {
  const { engine, policy, requireApiKey } = options;
  const count = (req: FastifyRequest, reply: FastifyReply, outcome: QuestionOutcome) => {
    if (req.questionCounted) return;
    req.questionCounted = true;
    options.questions?.count(outcome, Date.now() - reply.elapsedTime);
  };
  // A request refused before the handler (API key, rate limit, body) is counted when answered.
  const onResponse = async (req: FastifyRequest, reply: FastifyReply) => count(req, reply, askOutcome(req.failure?.errorName));
  // Checked before the body is read, so an unauthenticated caller learns nothing about bodies.
  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    if (requireApiKey && !requireApiKey(req.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED');
    }
  };
  app.post('/assistant/ask', { config: { rateLimit: {} }, onRequest, onResponse }, (req, reply) =>
    answer(req, reply, (outcome) => count(req, reply, outcome)).catch((err: unknown) => {
      // Counted here, not at the response: a caller that hung up still asked a question.
      count(req, reply, askOutcome(toAppError(err).errorName));
      throw err;
    }),
  );

  /** The question through policy and the engine; `counted` hears its outcome once, with its audit record. */
  async function answer(req: FastifyRequest, reply: FastifyReply, counted: (outcome: QuestionOutcome) => void): Promise<FastifyReply> {
    // The deadline counts from arrival: time queued behind the same session's questions counts.
    const deadline = Date.now() + options.answerTimeoutMs;
    if (!/\bjson\b/i.test(req.headers['content-type'] ?? '')) throw new AppError('UNSUPPORTED_MEDIA_TYPE');
    const body = parseAskBody(req.body);
    const sessionId = await continueOrStartSession(engine, body.sessionId);
    req.logFields = { sessionId };
    const key = httpConversationKey(sessionId);
    const asker = policy.httpAsker(key);
    const started = { id: `http:${randomUUID()}`, startedAt: policy.clock.now() };
    const record = (r: Omit<QuestionRecord, 'id' | 'startedAt'>) => {
      counted(r.outcome);
      return policy.record(asker, { ...started, ...r });
    };
    const screening = await policy.screen(asker, body.question);
    if (screening.kind === 'stop') {
      const { outcome, reply: text, afterReply } = screening.stop;
      req.logFields = { sessionId, policy: outcome };
      await record({ outcome });
      if (outcome === 'blocked' || text === undefined) throw new AppError('QUESTION_REFUSED', `school policy: ${outcome}`);
      // The caring reply goes out at once; the counsellor alert finishes after it.
      reply.code(200).send({ code: 0, answer: text, sessionId, aiGenerated: false });
      await afterReply;
      return reply;
    }
    const filter = policy.answerFilter();
    let result;
    try {
      result = await engine.ask({
        key,
        text: screening.text,
        systemPrompt: screening.systemPrompt,
        role: screening.role,
        deadline,
        logContext: { sessionId, transport: 'http' },
        screenAnswer: filter.check,
      });
    } catch (err) {
      await record({ outcome: failureOutcome(err) });
      throw err;
    }
    req.logFields = { sessionId, newConversation: result.newConversation };
    // Answer first; the audit record is written right after, off the caller's wait.
    reply.code(200).send({ code: 0, answer: policy.present(result.answer, screening.notice), sessionId, aiGenerated: true });
    await record({ outcome: 'answered', usage: result.usage, question: screening.text, answer: result.answer });
    return reply;
  }
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
