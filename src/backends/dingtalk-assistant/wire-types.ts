/**
 * DingTalk's assistant wire shapes (reference §2), only the fields we read. Everything is
 * optional because the API is deprecated and its docs disagree with themselves in places.
 */
export interface WireThread {
  readonly id?: string;
  readonly createdAt?: number;
}

export interface WireContentItem {
  readonly type?: string;
  readonly text?: { readonly value?: string };
}

export interface WireMessage {
  readonly id?: string;
  readonly threadId?: string;
  readonly createdAt?: number;
  readonly role?: string;
  /** An array of items; tolerate a plain string too. */
  readonly content?: readonly WireContentItem[] | string;
  readonly runId?: string;
  readonly assistantId?: string;
  /** The retrieve-message docs and SDK model spell it this way. */
  readonly assisantId?: string;
}

export interface WireRun {
  readonly id?: string;
  readonly threadId?: string;
  readonly createdAt?: number;
  readonly status?: string;
  readonly lastErrorMsg?: string;
}

export interface WireList<T> {
  readonly data?: readonly T[];
}

/** Statuses during which a run is still working (`requires_action` counts as in progress). */
export const RUNNING_STATUSES: ReadonlySet<string> = new Set(['queued', 'in_progress', 'requires_action']);

export const threadsPath = '/v1.0/assistant/threads';
export const threadPath = (threadId: string) => `${threadsPath}/${encodeURIComponent(threadId)}`;
export const messagesPath = (threadId: string) => `${threadPath(threadId)}/messages`;
export const runsPath = (threadId: string) => `${threadPath(threadId)}/runs`;
export const runPath = (threadId: string, runId: string) => `${runsPath(threadId)}/${encodeURIComponent(runId)}`;
