import type { AssistantBackend, CallOptions } from './assistant-backend.js';

/** The question a check asks: one word back is all it costs. */
export const CHECK_QUESTION = 'Reply with the single word OK. 请只回复 OK。';
const CHECK_USER = 'u_service_check';

/**
 * A backend check that asks a one-word question in a new conversation and then forgets it
 * upstream: it proves the URL, the key, the model or app and the quota all at once. Throws the
 * backend's `AssistantError` (with its `hint`) when it cannot answer.
 */
export async function checkByAsking(backend: AssistantBackend, options: CallOptions): Promise<void> {
  const { deadline, signal } = options;
  const logContext = { ...options.logContext, check: true };
  const answer = await backend.ask({ state: undefined, text: CHECK_QUESTION, user: CHECK_USER, deadline, signal, logContext });
  await backend.forget?.(answer.state, { user: CHECK_USER, deadline, signal, logContext }).catch(() => undefined);
}
