/**
 * The app-authenticated DingTalk OpenAPI (`{DINGTALK_API_BASE}/v1.0/...`), as the rest of the
 * service sees it: the token is added, cached and refreshed inside; every call has a timeout.
 */
export interface DingTalkApi {
  /** JSON request; resolves with the parsed body of a 2xx answer, else throws `DingTalkApiError`. */
  request<T>(req: DingTalkRequest): Promise<T>;
  /**
   * Like `request` but resolves with the open response body of a 2xx answer (for SSE), so the
   * caller can read it as a stream. Non-2xx answers throw `DingTalkApiError` like `request`.
   */
  openStream(req: DingTalkRequest): Promise<NodeJS.ReadableStream>;
  /**
   * POSTs JSON to an absolute DingTalk URL that carries its own credential (a message's
   * sessionWebhook): no token, but the same keep-alive connections and timeout. Resolves with
   * the status and body whatever the status; throws `DingTalkNetworkError` when there is none.
   */
  postToWebhook(url: string, body: unknown, timeoutMs?: number): Promise<{ status: number; data: unknown }>;
}

export interface DingTalkRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below DINGTALK_API_BASE, starting with `/v1.0/`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number>>;
  readonly body?: unknown;
  /** Overrides the default DINGTALK_TIMEOUT_SECONDS for this call. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * DingTalk answered, and said no. `code` is DingTalk's string code (`InvalidAuthentication`,
 * `thread.not.exist`, `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`, ...).
 */
export class DingTalkApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;
  /** Milliseconds DingTalk asked us to wait, when it said (throttling). */
  readonly retryAfterMs?: number;
  /** The permissions a 403 says the app lacks (`accessdenieddetail.requiredScopes`). */
  readonly requiredScopes?: readonly string[];

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { requestId?: string; retryAfterMs?: number; requiredScopes?: readonly string[] } = {},
  ) {
    super(`DingTalk ${status} ${code}: ${message}`);
    this.name = 'DingTalkApiError';
    this.status = status;
    this.code = code;
    this.requestId = extra.requestId;
    this.retryAfterMs = extra.retryAfterMs;
    this.requiredScopes = extra.requiredScopes;
  }
}

/** The call never got an answer: connection refused or reset, DNS, or our own timeout. */
export class DingTalkNetworkError extends Error {
  readonly timedOut: boolean;
  constructor(message: string, options: { cause?: unknown; timedOut?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = 'DingTalkNetworkError';
    this.timedOut = options.timedOut ?? false;
  }
}
