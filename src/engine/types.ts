import type { TokenUsage } from '../backends/assistant-backend.js';
import type { AssistantError } from '../errors.js';
import type { ConversationKey } from './conversation-key.js';

/**
 * Which reserved share of MAX_CONCURRENT_RUNS a question draws on: people chatting with the bot
 * (`chat`), or pages and programs calling the question API (`api`).
 */
export type RunClass = 'chat' | 'api';

/** One question for the engine, from any transport. */
export interface AskRequest {
  readonly key: ConversationKey;
  /** The user's text, exactly as it should reach the model. */
  readonly text: string;
  /**
   * Epoch ms by which the answer must exist. Default: ANSWER_TIMEOUT_SECONDS after the
   * question's turn starts (time spent queued behind earlier questions does not count).
   */
  readonly deadline?: number;
  /**
   * Identifies this question across process restarts (chat: the message id). Asked again with
   * the same id after a crash, the backend resumes or replays instead of answering twice.
   */
  readonly requestId?: string;
  /**
   * Aborted on shutdown, or when the asker went away: a question still waiting for its turn or
   * a run slot is dropped, and one at the model service is cancelled where the backend can.
   */
  readonly signal?: AbortSignal;
  /** The share of the model service this question draws on (default `chat`). */
  readonly runClass?: RunClass;
  /** Fields added to every log line about this question (msgId, sessionId...). */
  readonly logContext?: Readonly<Record<string, unknown>>;
  /** The answer so far, cleaned, as the model writes it (AI cards). */
  readonly onText?: (textSoFar: string) => void;
  /** The system prompt for this question (by role), replacing the backend's default. */
  readonly systemPrompt?: string;
  /** `student` or `teacher`, for backends that take the role as an input. */
  readonly role?: string;
  /**
   * Looks at the finished answer before it is kept (the school's blocked words). An error
   * returned is thrown instead of the answer, and the turn is not stored: the conversation is
   * left as it was before the question (or, for a backend keeping history upstream, started over).
   */
  readonly screenAnswer?: (answer: string) => AssistantError | undefined;
}

export interface AskResult {
  readonly answer: string;
  /** True when this question started a new conversation (first question, expiry, reset). */
  readonly newConversation: boolean;
  readonly usage?: TokenUsage;
}

/** A conversation's turn: everything done inside runs alone for that conversation. */
export interface ConversationTurn {
  readonly key: ConversationKey;
  ask(request: Omit<AskRequest, 'key'>): Promise<AskResult>;
  /** Forgets the conversation; the next question starts a new one. */
  reset(): Promise<void>;
}

/** The engine, as transports see it. */
export interface ConversationService {
  /**
   * Runs `work` as the conversation's next turn: turns of one key run one at a time in arrival
   * order (the place in line is taken synchronously), keys in parallel. Throws BusyError at
   * once when CONVERSATION_QUEUE_LIMIT turns already wait or run for the key.
   */
  inConversation<T>(key: ConversationKey, work: (turn: ConversationTurn) => Promise<T>): Promise<T>;
  /** A turn that only asks: `inConversation(key, t => t.ask(request))`. */
  ask(request: AskRequest): Promise<AskResult>;
  /** A turn that only resets. */
  reset(key: ConversationKey): Promise<void>;
  /** True when the key has a live (unexpired) session. */
  hasSession(key: ConversationKey): Promise<boolean>;
}
