import { classifyHttpStatus } from '../model-http/classify-http-status.js';
import { describeFailure, ModelCallError } from '../model-http/model-call-error.js';
import { asJsonObject } from '../model-http/json-object.js';

/** What an OpenAI-compatible error body says, across providers' shapes. */
interface ErrorFacts {
  readonly code?: string;
  readonly type?: string;
  readonly message: string;
}

const KEY_HINT = 'OPENAI_API_KEY';
const MODEL_HINT = 'OPENAI_MODEL';
const URL_HINT = 'OPENAI_BASE_URL';
/** Normalised code of a prompt longer than the model's context window. */
export const CONTEXT_OVERFLOW_CODE = 'context_length_exceeded';

/** DashScope, Kimi, Ark (`InputTextRiskDetection`...), Zhipu 1301, output moderation texts. */
const MODERATION = /data_inspection_failed|content_filter|RiskDetection|inappropriate content|^1301$/i;
/** DeepSeek/OpenAI balance, Zhipu 1113 arrears, DashScope `Arrearage`, Ark `AccountOverdueError`. */
const QUOTA = /insufficient_quota|arrear|AccountOverdue|^1113$|insufficient balance/i;
/** A 429 that is about money, not speed (Kimi, Zhipu send both as 429). */
const QUOTA_429 = /quota|balance|billing|credit|余额|欠费|额度/i;
const MODEL_MISSING = /model_not_found|InvalidEndpoint|^1211$|model .*(does not exist|not found)|unknown model/i;
const CONTEXT = /context_length_exceeded|maximum context length|context length is only|context window/i;

/** Maps an HTTP error answer (status, headers, body text) to an error with its retry verdict. */
export function classifyOpenAiHttpError(
  status: number,
  retryAfterMs: number | undefined,
  bodyText: string,
): ModelCallError {
  const facts = errorFacts(asJsonObject(bodyText));
  const code = facts.code ?? facts.type;
  const all = [facts.code, facts.type, facts.message].filter(Boolean).join(' ');
  const fail = (kind: 'blocked' | 'quota' | 'config' | 'rejected', hint?: string, upstreamCode = code) =>
    new ModelCallError(kind, describeFailure('model call failed', upstreamCode, status), {
      upstreamCode,
      status,
      hint,
    });
  if (status >= 400 && status < 500 && status !== 401 && matchesAny(MODERATION, facts)) return fail('blocked');
  if (status === 402 || matchesAny(QUOTA, facts) || (status === 429 && QUOTA_429.test(all))) {
    return fail('quota', KEY_HINT);
  }
  if (status >= 400 && status < 500 && status !== 401 && status !== 403 && matchesAny(MODEL_MISSING, facts)) {
    return fail('config', MODEL_HINT);
  }
  if (status === 400 && CONTEXT.test(all)) return fail('rejected', undefined, CONTEXT_OVERFLOW_CODE);
  return classifyHttpStatus({
    status,
    retryAfterMs,
    upstreamCode: code,
    hints: { auth: KEY_HINT, quota: KEY_HINT, config: URL_HINT },
  });
}

/** A `data: {"error": …}` inside the stream: moderation of the answer, or the model failing. */
export function classifyOpenAiStreamError(error: unknown): ModelCallError {
  const facts = errorFacts(typeof error === 'string' ? { error: { message: error } } : { error });
  const code = facts.code ?? facts.type;
  const make = (kind: 'blocked' | 'quota' | 'failed', retryable: boolean, hint?: string) =>
    new ModelCallError(kind, describeFailure('model stream failed', code, undefined), {
      upstreamCode: code,
      retryable,
      hint,
    });
  if (matchesAny(MODERATION, facts)) return make('blocked', false);
  if (matchesAny(QUOTA, facts)) return make('quota', false, KEY_HINT);
  // The model gave up mid-answer (overload, an internal error): like a cut stream, worth another try.
  return make('failed', true);
}

export function isContextOverflow(err: unknown): boolean {
  return err instanceof ModelCallError && err.upstreamCode === CONTEXT_OVERFLOW_CODE;
}

/** `{error: {code, type, message}}` (OpenAI, DashScope, Ark, Zhipu), `{error: "…"}` (Ollama), or flat (vLLM). */
function errorFacts(body: Record<string, unknown> | undefined): ErrorFacts {
  const inner = body?.error;
  const e = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : body;
  return {
    code: text(e?.code) ?? text(body?.code),
    type: text(e?.type),
    message: (typeof inner === 'string' ? inner : text(e?.message) ?? text(body?.message)) ?? '',
  };
}

function matchesAny(pattern: RegExp, facts: ErrorFacts): boolean {
  return [facts.code, facts.type, facts.message].some((v) => v !== undefined && pattern.test(v));
}

function text(v: unknown): string | undefined {
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' && v !== '' ? v : undefined;
}
