/**
 * The single error catalogue. Every error a caller of `/assistant/ask` can see is listed here,
 * with its HTTP status and numeric API code; README.md repeats the table and a test keeps the
 * two in sync (fastify's errors.js pattern).
 */
export interface ErrorSpec {
  readonly code: number;
  readonly status: number;
  /** English, sent as the API's `message`. */
  readonly message: string;
  /** The same in Chinese, for people (the web chat page shows both); the API sends `message` only. */
  readonly zh: string;
}

export const ERRORS = {
  INVALID_JSON: {
    code: 40001,
    status: 400,
    message: 'The request body is not valid JSON.',
    zh: '请求格式不正确（不是合法的 JSON）。',
  },
  INVALID_BODY: {
    code: 40002,
    status: 400,
    message: 'The request body must be a JSON object like {"question": "...", "sessionId": "..."}.',
    zh: '请求内容的格式不正确。',
  },
  QUESTION_EMPTY: { code: 40003, status: 400, message: 'The question is empty.', zh: '问题不能为空。' },
  QUESTION_TOO_LONG: {
    code: 40004,
    status: 400,
    message: 'The question is too long (at most 2000 characters).',
    zh: '问题太长了（最多 2000 个字符）。',
  },
  SESSION_ID_INVALID: {
    code: 40005,
    status: 400,
    message: 'sessionId must be a UUID string returned by an earlier answer.',
    zh: '会话编号无效，请开始新对话。',
  },
  QUESTION_INVALID_CHARACTERS: {
    code: 40006,
    status: 400,
    message: 'The question contains control characters or invalid text.',
    zh: '问题里有无法识别的字符。',
  },
  INVALID_REQUEST: {
    code: 40007,
    status: 400,
    message: 'The request is not valid HTTP.',
    zh: '请求格式不正确。',
  },
  UNAUTHORIZED: {
    code: 40101,
    status: 401,
    message: 'A valid API key is required (Authorization: Bearer <key>).',
    zh: '需要有效的访问密钥。',
  },
  NOT_FOUND: { code: 40401, status: 404, message: 'No such endpoint.', zh: '没有这个接口。' },
  METHOD_NOT_ALLOWED: { code: 40501, status: 405, message: 'This method is not allowed here.', zh: '不支持这种请求方式。' },
  REQUEST_TIMEOUT: {
    code: 40801,
    status: 408,
    message: 'The request did not arrive in time.',
    zh: '请求发送得太慢，已超时。',
  },
  BODY_TOO_LARGE: { code: 41301, status: 413, message: 'The request body is too large.', zh: '请求内容太大。' },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 41501,
    status: 415,
    message: 'The request body must be JSON (Content-Type: application/json).',
    zh: '请求必须是 JSON 格式。',
  },
  BODY_ENCODING_UNSUPPORTED: {
    code: 41502,
    status: 415,
    message: 'The request body must not be compressed (Content-Encoding is not supported).',
    zh: '请求内容不能压缩发送。',
  },
  QUESTION_REFUSED: {
    code: 42201,
    status: 422,
    message: 'The assistant cannot answer this question (it was refused by content moderation).',
    zh: '这个问题无法回答（未通过内容审核），请换个问法。',
  },
  RATE_LIMITED: {
    code: 42901,
    status: 429,
    message: 'Too many requests; please retry later.',
    zh: '提问太频繁了，请稍后再试。',
  },
  HEADERS_TOO_LARGE: {
    code: 43101,
    status: 431,
    message: 'The request headers are too large.',
    zh: '请求头太大。',
  },
  INTERNAL: { code: 50001, status: 500, message: 'Internal error; please retry later.', zh: '服务内部出错，请稍后再试。' },
  ASSISTANT_FAILED: {
    code: 50201,
    status: 502,
    message: 'The assistant could not answer; please retry later.',
    zh: 'AI 助手暂时无法回答，请稍后再试。',
  },
  SERVICE_UNAVAILABLE: {
    code: 50301,
    status: 503,
    message: 'The service is temporarily unavailable; please retry later.',
    zh: '服务暂时不可用，请稍后再试。',
  },
  BUSY: {
    code: 50302,
    status: 503,
    message: 'The assistant is busy with earlier questions; please retry later.',
    zh: 'AI 助手还在处理之前的问题，请稍后再试。',
  },
  ANSWER_TIMEOUT: {
    code: 50401,
    status: 504,
    message: 'The assistant did not answer in time; please retry later.',
    zh: 'AI 助手没有及时回答，请稍后再试。',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERRORS;

/** An error with a catalogue entry; `detail` is for logs only, never sent to callers. */
export class AppError extends Error {
  readonly errorName: ErrorName;
  readonly spec: ErrorSpec;

  constructor(errorName: ErrorName, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? ERRORS[errorName].message, options);
    this.name = 'AppError';
    this.errorName = errorName;
    this.spec = ERRORS[errorName];
  }
}

/**
 * Why an assistant backend could not answer. Transports map kinds to their own wording
 * (HTTP status, chat sentence); backends map their vendor's errors to kinds.
 */
export type AssistantErrorKind =
  | 'failed' // the model service tried and failed (a run or stream ended in failure)
  | 'timeout' // no answer before the deadline
  | 'unavailable' // network error, 5xx, a stream cut short, transient busy codes after retries
  | 'rate_limited' // upstream throttling after retries
  | 'conversation_missing' // the upstream conversation is gone; the backend starts a new one
  | 'rejected' // upstream refused the request as malformed (a caller mistake)
  | 'auth' // credentials or permissions are wrong (operator must act; `hint` names the variable)
  | 'config' // the model, app or assistant named in config does not exist (operator must act)
  | 'quota' // the account is out of balance or quota (operator must act)
  | 'blocked' // content moderation refused the question or the answer (not a failure of ours)
  | 'unsupported' // the app asked for something the bot cannot show (a form)
  | 'cancelled'; // the caller gave up (shutdown, client gone)

export class AssistantError extends Error {
  readonly kind: AssistantErrorKind;
  /** Vendor error code, when there is one (e.g. `thread.not.exist`, `data_inspection_failed`). */
  readonly upstreamCode?: string;
  readonly status?: number;
  /** For operators: the variable to check (`OPENAI_API_KEY`, `OPENAI_MODEL`...). Logged, never shown. */
  readonly hint?: string;
  /**
   * The conversation state the failed question leaves behind (e.g. a run still active upstream),
   * to store instead of the state before the question; undefined keeps the stored state.
   */
  readonly state?: Readonly<Record<string, unknown>>;

  constructor(
    kind: AssistantErrorKind,
    detail: string,
    extra: {
      upstreamCode?: string;
      status?: number;
      hint?: string;
      state?: Readonly<Record<string, unknown>>;
      cause?: unknown;
    } = {},
  ) {
    super(detail, { cause: extra.cause });
    this.name = 'AssistantError';
    this.kind = kind;
    this.upstreamCode = extra.upstreamCode;
    this.status = extra.status;
    this.hint = extra.hint;
    this.state = extra.state;
  }

  /** The same error carrying the state to keep (backends add it on the way out). */
  withState(state: Readonly<Record<string, unknown>> | undefined): AssistantError {
    if (state === undefined) return this;
    const copy = new AssistantError(this.kind, this.message, { ...this, state, cause: this.cause });
    copy.stack = this.stack;
    return copy;
  }
}

/** Storage could not be read or written (locked file, full disk, permissions). */
export class StorageError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'StorageError';
  }
}

/** The per-conversation queue or the global run cap is full. */
export class BusyError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'BusyError';
  }
}

/** Maps any failure of `engine.ask` to the catalogue entry an HTTP caller sees. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof AssistantError) {
    const name: ErrorName =
      err.kind === 'timeout' ? 'ANSWER_TIMEOUT' : err.kind === 'blocked' ? 'QUESTION_REFUSED' : 'ASSISTANT_FAILED';
    return new AppError(name, err.message, { cause: err });
  }
  if (err instanceof StorageError) return new AppError('SERVICE_UNAVAILABLE', err.message, { cause: err });
  if (err instanceof BusyError) return new AppError('BUSY', err.message, { cause: err });
  const detail = err instanceof Error ? err.message : String(err);
  return new AppError('INTERNAL', detail, { cause: err });
}
