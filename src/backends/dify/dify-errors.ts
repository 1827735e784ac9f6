import { classifyHttpStatus } from '../model-http/classify-http-status.js';
import { describeFailure, ModelCallError } from '../model-http/model-call-error.js';
import { asJsonObject } from '../model-http/json-object.js';
import type { AssistantErrorKind } from '../../errors.js';

const KEY_HINT = 'DIFY_API_KEY';
const URL_HINT = 'DIFY_BASE_URL';

/** The app behind the key is not a usable chat app: the operator must pick another key. */
const CONFIG_CODES = new Set(['app_unavailable', 'not_chat_app', 'model_currently_not_support']);
/** The model provider configured in Dify has no credit or no credentials. */
const QUOTA_CODES = new Set(['provider_quota_exceeded', 'provider_not_initialize']);
/** Upstream moderation, passed through Dify as a message (DashScope, Kimi, Ark, Zhipu). */
const MODERATION = /data_inspection_failed|content_filter|RiskDetection|inappropriate content/i;
const CONVERSATION_MISSING = /conversation not exists/i;

interface DifyErrorFacts {
  readonly code?: string;
  readonly message: string;
}

/** Maps a Dify HTTP error answer (`{code, message, status}`) to an error with its retry verdict. */
export function classifyDifyHttpError(
  status: number,
  retryAfterMs: number | undefined,
  bodyText: string,
): ModelCallError {
  const facts = errorFacts(asJsonObject(bodyText));
  const { code } = facts;
  const fail = (kind: AssistantErrorKind, hint?: string, upstreamCode = code) =>
    new ModelCallError(kind, describeFailure('dify call failed', upstreamCode, status), {
      upstreamCode,
      status,
      hint,
    });
  if (status === 404 && CONVERSATION_MISSING.test(facts.message)) {
    return fail('conversation_missing', undefined, code ?? 'not_found');
  }
  const known = knownCode(facts);
  if (known) return fail(known.kind, known.hint);
  return classifyHttpStatus({
    status,
    retryAfterMs,
    upstreamCode: code,
    hints: { auth: KEY_HINT, quota: KEY_HINT, config: URL_HINT },
  });
}

/** An `error` event inside the stream: it ends the question; only its code decides the kind. */
export function classifyDifyStreamError(data: Record<string, unknown>): ModelCallError {
  const facts = errorFacts(data);
  const known = knownCode(facts) ?? { kind: 'failed' as const };
  const status = typeof data.status === 'number' ? data.status : undefined;
  return new ModelCallError(known.kind, describeFailure('dify stream failed', facts.code, status), {
    upstreamCode: facts.code,
    status,
    hint: known.hint,
  });
}

export function isConversationMissing(err: unknown): boolean {
  return err instanceof ModelCallError && err.kind === 'conversation_missing';
}

function knownCode(facts: DifyErrorFacts): { kind: AssistantErrorKind; hint?: string } | undefined {
  const code = facts.code ?? '';
  if (CONFIG_CODES.has(code)) return { kind: 'config', hint: KEY_HINT };
  if (QUOTA_CODES.has(code)) return { kind: 'quota', hint: KEY_HINT };
  if (MODERATION.test(code) || MODERATION.test(facts.message)) return { kind: 'blocked' };
  // The model behind the app failed (Dify wraps the provider's error).
  if (code === 'completion_request_error') return { kind: 'failed' };
  return undefined;
}

function errorFacts(body: Record<string, unknown> | undefined): DifyErrorFacts {
  const code = typeof body?.code === 'string' && body.code !== '' ? body.code : undefined;
  const message = typeof body?.message === 'string' ? body.message : '';
  return { code, message };
}
