/**
 * A chat message as the chat layer sees it, in our own words. The DingTalk Stream adapter
 * builds it from a robot callback; nothing here knows DingTalk field names. It is plain JSON
 * so the message ledger can keep it and a restarted process can answer it.
 */
export interface ChatMessage {
  /** The id used to drop redeliveries (the platform's message id). */
  readonly id: string;
  readonly conversation: ChatConversation;
  readonly sender: ChatSender;
  /** Epoch ms the user sent the message (the platform's clock). */
  readonly createdAt: number;
  /**
   * Epoch ms on the platform's clock when it delivered the message to us, and on ours when it
   * arrived: with both, a message's age is judged by the platform's clock, so a wrong server
   * clock cannot make every message look too old (or a late one look fresh).
   */
  readonly deliveredAt?: number;
  readonly receivedAt?: number;
  readonly content: ChatContent;
  /** Where and how to answer; opaque to the chat layer, read only by the transport's replier. */
  readonly replyTarget: ReplyTarget;
}

export interface ChatConversation {
  readonly kind: 'direct' | 'group';
  readonly id: string;
  readonly title?: string;
}

export interface ChatSender {
  /** Organisation user id when known, else the platform's opaque sender id. */
  readonly id: string;
  readonly name?: string;
  /** The platform says this user administers the organisation (TEACHERS_FROM_ADMINS). */
  readonly isAdmin?: boolean;
}

export type ChatContent =
  /** Text meant for the assistant (typed, or recognised from voice), mention already removed. */
  | { readonly kind: 'text'; readonly text: string; readonly fromVoice?: boolean }
  /** Pictures, files, videos and anything else we cannot read yet. */
  | { readonly kind: 'unsupported'; readonly type: string };

/** JSON data only the replier of the transport that received the message understands. */
export type ReplyTarget = Readonly<Record<string, unknown>>;

/** Sends the bot's words back to the conversation a message came from. */
export interface ChatReplier {
  /** Resolves once every part of `text` is delivered, in order; throws when it cannot be. */
  reply(message: ChatMessage, text: string): Promise<void>;
  /**
   * Starts the answer to a question before its text exists, for repliers that show it as it is
   * written (an AI card, which also stands in for the "thinking" notice). Resolves undefined
   * when this replier does not (or cannot, now) stream: the answer then goes out with `reply`.
   */
  startAnswer?(message: ChatMessage): Promise<AnswerDraft | undefined>;
  /**
   * Called by recovery before it answers messages a previous process (or instance) left: a
   * replier that shows answers as they are written takes over the ones left open for these
   * messages, so each message still ends with one answer.
   */
  adoptOpenAnswers?(messageIds: ReadonlySet<string>): Promise<void>;
}

/** An answer being written where the user can see it. */
export interface AnswerDraft {
  /** The answer so far (the whole text each time, in order); the draft decides how often to show it. */
  update(textSoFar: string): void;
  /**
   * Shows the final text (the answer, or one friendly failure sentence when `failed`) and closes
   * the draft; resolves once delivered, throws when it cannot be. Called once.
   */
  finish(text: string, options?: { failed?: boolean }): Promise<void>;
}

/** What a chat transport hands messages to (the chat handler). */
export interface ChatSink {
  /**
   * Records the message and queues its answer; resolves false for a redelivery. Ack after it
   * resolves; never when it rejects (it could not be recorded): the platform then delivers it again.
   */
  accept(message: ChatMessage): Promise<boolean>;
  /** Answers messages a previous process recorded but did not finish; resolves how many. */
  recover(): Promise<number>;
  /** Lets in-flight answers finish for `graceMs`, then cancels the rest (they stay recorded). */
  stop(graceMs?: number): Promise<void>;
}
