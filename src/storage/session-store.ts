import type { ConversationKey } from '../engine/conversation-key.js';

/** What the engine remembers about one conversation. */
export interface SessionRecord {
  readonly threadId: string;
  /** Epoch ms of the last question; the idle clock. */
  readonly lastActiveAt: number;
  /**
   * A run that was started but whose answer was never delivered (timeout, crash). The next
   * question first waits for or abandons it, so DingTalk never sees a run start while an older
   * one is still active.
   */
  readonly pendingRunId?: string;
  /**
   * The question (by the transport's request id, e.g. a chat msgId) whose steps are recorded
   * below, so a retry of the same question after a crash resumes instead of asking again.
   */
  readonly pendingRequestId?: string;
  /**
   * The pending question's text is already in the thread (true), or was about to be added
   * when the record was written (false: it may or may not have landed; check upstream).
   */
  readonly pendingMessageAdded?: boolean;
  /**
   * The last question answered in this thread and its run: asked again with this request id
   * (a crash after the answer, before it reached the user) the run is read, not asked again.
   */
  readonly answeredRequestId?: string;
  readonly answeredRunId?: string;
}

/** Sessions by conversation key; records expire `ttlMs` after their last write. */
export interface SessionStore {
  get(key: ConversationKey): Promise<SessionRecord | undefined>;
  set(key: ConversationKey, record: SessionRecord, ttlMs: number): Promise<void>;
  delete(key: ConversationKey): Promise<void>;
}
