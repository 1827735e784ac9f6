import type { BackendState } from '../assistant-backend.js';

/**
 * Dify keeps the conversation itself; ours is its id plus the last answer, so a question asked
 * again with the same requestId (a crash before delivery) is answered without asking twice.
 */
export type DifyState = {
  readonly conversationId?: string;
  readonly lastRequestId?: string;
  readonly lastAnswer?: string;
};

/** Reads the backend's opaque state; anything else (another backend's) is a new conversation. */
export function readDifyState(state: BackendState | undefined): DifyState {
  const pick = (key: keyof DifyState) => {
    const value = state?.[key];
    return typeof value === 'string' && value !== '' ? { [key]: value } : {};
  };
  return { ...pick('conversationId'), ...pick('lastRequestId'), ...pick('lastAnswer') };
}

/** The state after an answer: the conversation, plus the answer when the question had an id. */
export function answeredState(
  conversationId: string | undefined,
  requestId: string | undefined,
  answer: string,
): DifyState {
  return {
    ...(conversationId ? { conversationId } : {}),
    ...(requestId ? { lastRequestId: requestId, lastAnswer: answer } : {}),
  };
}

/** The same state without its conversation (Dify lost it; the next question starts a new one). */
export function withoutConversation(state: DifyState): DifyState {
  const { conversationId: _lost, ...rest } = state;
  return rest;
}
