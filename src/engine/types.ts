import type { ConversationKey } from './conversation-key.js';

/** One question for the engine, from any transport. */
export interface AskRequest {
  readonly key: ConversationKey;
  /** The user's text, exactly as it should reach the assistant. */
  readonly text: string;
  /**
   * Epoch ms by which the answer must exist. Default: ANSWER_TIMEOUT_SECONDS after the
   * question's turn starts (time spent queued behind earlier questions does not count).
   */
  readonly deadline?: number;
  /**
   * Identifies this question across process restarts (chat: the message id). Asking again with
   * the same id after a crash resumes the recorded run instead of asking the assistant twice.
   */
  readonly requestId?: string;
  /** Aborted on shutdown. */
  readonly signal?: AbortSignal;
  /** Fields added to every log line about this question (msgId, sessionId...). */
  readonly logContext?: Readonly<Record<string, unknown>>;
  /** Called when the question's turn starts (it stops waiting behind earlier ones). */
  readonly onStart?: () => void;
}

export interface AskResult {
  readonly answer: string;
  readonly threadId: string;
  readonly runId?: string;
  /** True when this question started a new thread (new session, expiry, or a lost thread). */
  readonly newThread: boolean;
}

/** The engine, as transports see it. */
export interface ConversationService {
  /**
   * Answers `text` in the conversation's thread. Questions of one key run one at a time in
   * arrival order; throws BusyError when too many are waiting, AssistantError/StorageError
   * when the answer cannot be had.
   */
  ask(request: AskRequest): Promise<AskResult>;
  /** Forgets the conversation's thread; the next question starts a new one. */
  reset(key: ConversationKey): Promise<void>;
  /** True when the key has a live (unexpired) session. */
  hasSession(key: ConversationKey): Promise<boolean>;
}
