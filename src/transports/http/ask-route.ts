import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpConversationKey } from '../../engine/conversation-key.js';
import type { AskRequest, AskResult, ConversationService } from '../../engine/types.js';
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
  /** True when ASK_API_KEYS is set: the request must carry a valid key (`req.apiKeyId`). */
  readonly requireApiKey: boolean;
  /** The route's own config (its rate limit). */
  readonly routeConfig?: Record<string, unknown>;
  /** Counts every request once, by how it ended (including those refused before the handler). */
  readonly questions?: QuestionMeter;
}

/**
 * `POST /assistant/ask {question, sessionId?} -> {code: 0, answer, sessionId, aiGenerated}`. The
 * answer ends with the AI label; a crisis message gets the caring reply (`aiGenerated: false`)
 * and never reaches the model; a blocked question or answer is 422. One audit record per question.
 */
export function registerAskRoute(app: FastifyInstance, options: AskRouteOptions): void {
  const count = (req: FastifyRequest, reply: FastifyReply, outcome: QuestionOutcome) => {
    if (req.questionCounted) return;
    req.questionCounted = true;
    options.questions?.count(outcome, Date.now() - reply.elapsedTime);
  };
  // A request refused before the handler (API key, rate limit, body) is counted when answered.
  const onResponse = async (req: FastifyRequest, reply: FastifyReply) => count(req, reply, askOutcome(req.failure?.errorName));
  const preParsing = checkBeforeBody(options.requireApiKey);
  app.post('/assistant/ask', { config: options.routeConfig ?? {}, preParsing, onResponse }, (req, reply) =>
    answer(options, req, reply, (outcome) => count(req, reply, outcome)).catch((err: unknown) => {
      // Counted here, not at the response: a caller that hung up still asked a question.
      count(req, reply, askOutcome(toAppError(err).errorName));
      throw err;
    }),
  );
}

/** The question through policy and the engine; `counted` hears its outcome once, with its audit record. */
async function answer(
  options: AskRouteOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  counted: (outcome: QuestionOutcome) => void,
): Promise<FastifyReply> {
  const { engine, policy } = options;
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
    const { text, systemPrompt, role } = screening;
    const logContext = { sessionId, transport: 'http' };
    const request = { key, text, systemPrompt, role, deadline, logContext, screenAnswer: filter.check };
    result = await askWhileCallerWaits(engine, request, req, reply);
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

/**
 * Checked before the body is read (after the rate limit), so an unauthenticated caller learns
 * nothing about bodies, and a compressed body is refused for what it is.
 */
function checkBeforeBody(requireApiKey: boolean) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (requireApiKey && !req.apiKeyId) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED');
    }
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') throw new AppError('BODY_ENCODING_UNSUPPORTED', 'a Content-Encoding body');
  };
}

/**
 * Asks as an API caller, with a signal that fires when the caller goes away before its answer
 * is sent: a question still waiting is dropped and one at the model service is cancelled.
 */
async function askWhileCallerWaits(
  engine: ConversationService,
  request: Omit<AskRequest, 'signal' | 'runClass'>,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<AskResult> {
  const left = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableFinished) left.abort();
  };
  if (req.raw.socket?.destroyed !== false) left.abort();
  else res.once('close', onClose);
  try {
    return await engine.ask({ ...request, signal: left.signal, runClass: 'api' });
  } finally {
    res.off('close', onClose);
  }
}

/** A known, live sessionId continues; an unknown or expired one gets a fresh id. */
async function continueOrStartSession(engine: ConversationService, sessionId: string | undefined): Promise<string> {
  if (sessionId && (await engine.hasSession(httpConversationKey(sessionId)))) return sessionId;
  return randomUUID();
}

declare module 'fastify' {
  interface FastifyRequest {
    questionCounted?: boolean;
  }
}
