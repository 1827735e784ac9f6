/**
 * What the engine needs from a model service. Each backend keeps its own per-conversation
 * state (a DingTalk thread and its run bookkeeping, an OpenAI-style history, a Dify
 * conversation id) as opaque JSON that the engine stores with the session and hands back on
 * the next question. Nothing outside a backend's own folder knows its vendor's words; a
 * backend throws `AssistantError` (src/errors.ts).
 */
export interface AssistantBackend {
  /** `openai`, `dify` or `dingtalk-assistant`; stored with each session, so a switch discards foreign state. */
  readonly name: BackendName;
  /** Answers one question of a conversation; see `AskInput`. */
  ask(input: AskInput): Promise<BackendAnswer>;
  /**
   * Deletes the conversation upstream where the vendor keeps one (reset, expiry), so students'
   * words do not stay there. Best effort; a backend without server-side history leaves it out.
   */
  forget?(state: BackendState, options: ForgetOptions): Promise<void>;
  /**
   * Confirms with one cheap call that the backend can answer (credentials, model, app or
   * assistant exist), for `npm run doctor` and `/healthz`. Throws `AssistantError` (`auth`,
   * `config`, `quota`, `unavailable`…) whose `hint` names the variable to check.
   */
  check?(options: CallOptions): Promise<void>;
  /** Frees pooled sockets (graceful stop). */
  close?(): void;
}

export type BackendName = 'openai' | 'dify' | 'dingtalk-assistant' | (string & {});

/** A backend's own JSON record for one conversation; opaque to everyone else. */
export type BackendState = Readonly<Record<string, unknown>>;

export interface CallOptions {
  /** Epoch ms after which the backend stops waiting and throws `AssistantError('timeout')`. */
  readonly deadline: number;
  /** Aborted on shutdown or when the caller went away; the backend throws `AssistantError('cancelled')`. */
  readonly signal?: AbortSignal;
  /** Structured log fields of the caller (conversation key, msgId); never secrets. */
  readonly logContext?: Record<string, unknown>;
}

export interface ForgetOptions extends CallOptions {
  /** The same pseudonymous user the conversation was asked with. */
  readonly user: string;
}

export interface AskInput extends CallOptions {
  /** What this backend returned (or checkpointed) last time; undefined starts a new conversation. */
  readonly state: BackendState | undefined;
  /** The user's question, exactly as it should reach the model. */
  readonly text: string;
  /**
   * A stable pseudonym of the conversation (an HMAC of its key): Dify's `user`, and whatever a
   * vendor needs to scope a conversation. Never a staff id, nick or session id as such.
   */
  readonly user: string;
  /** The system prompt for this question (by role); backends without one ignore it. */
  readonly systemPrompt?: string;
  /** `student` or `teacher`, for backends that take it as an input instead of a prompt (Dify `inputs.role`). */
  readonly role?: string;
  /**
   * Identifies the question across restarts (chat: the message id). Asked again with the same
   * id after a crash, a backend returns the recorded answer or resumes instead of asking twice
   * where it can; asking the model again is acceptable where it cannot.
   */
  readonly requestId?: string;
  /**
   * Persists the conversation's state now, before a step that must not be repeated or lost
   * (a DingTalk message added, a Dify conversation created). Resolves once it is stored.
   */
  readonly onCheckpoint?: (state: BackendState) => Promise<void>;
  /**
   * The answer so far, as the model writes it: the whole text each time, in order, already
   * cleaned of reasoning. May start over (shorter) when the backend retries.
   */
  readonly onText?: (textSoFar: string) => void;
}

export interface BackendAnswer {
  /** The whole answer, cleaned of reasoning; never cut short. */
  readonly answer: string;
  /** The conversation's state after this answer, to store with the session. */
  readonly state: BackendState;
  /** Token counts when the vendor reports them (for the log and the audit). */
  readonly usage?: TokenUsage;
}

export interface TokenUsage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
}
