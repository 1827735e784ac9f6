import type { ModelTarget } from '../model-http/model-target.js';
import type { AskInput } from '../assistant-backend.js';
import type { QuestionBudget } from '../question-budget.js';
import { readErrorBody } from '../model-http/read-error-body.js';
import { retryAfterMs } from '../model-http/retry-after.js';
import { streamedPost } from '../model-http/streamed-post.js';
import { classifyDifyHttpError } from './dify-errors.js';
import { type DifyStreamHooks, type DifyStreamResult, readDifyStream } from './dify-events.js';

/** Dify needs nothing beyond the common target. */
export type DifyTarget = ModelTarget;

/**
 * One `POST /chat-messages` in streaming mode (blocking mode is cut at 100 s on Dify's cloud
 * and unavailable for agent apps). An empty conversation id starts a new conversation.
 */
export async function sendChatMessage(
  target: DifyTarget,
  input: AskInput,
  conversationId: string | undefined,
  budget: QuestionBudget,
  hooks: DifyStreamHooks,
): Promise<DifyStreamResult> {
  const res = await streamedPost(
    target.client,
    {
      url: `${target.baseUrl}/chat-messages`,
      headers: { Authorization: `Bearer ${target.apiKey}`, Accept: 'text/event-stream' },
      body: {
        inputs: input.role ? { role: input.role } : {},
        query: input.text,
        response_mode: 'streaming',
        conversation_id: conversationId ?? '',
        user: input.user,
      },
      firstByteTimeoutMs: target.firstByteTimeoutMs,
      idleTimeoutMs: target.idleTimeoutMs,
    },
    budget,
  );
  if (res.status < 200 || res.status >= 300) {
    const text = await readErrorBody(res.body);
    throw classifyDifyHttpError(res.status, retryAfterMs(res.headers), text);
  }
  return readDifyStream(res, hooks);
}
