import type { ModelTarget } from '../model-http/model-target.js';
import type { QuestionBudget } from '../question-budget.js';
import { readErrorBody } from '../model-http/read-error-body.js';
import { retryAfterMs } from '../model-http/retry-after.js';
import { streamedPost } from '../model-http/streamed-post.js';
import type { ChatMessage } from './chat-history.js';
import { isJsonAnswer, readCompletionJson } from './completion-json.js';
import { type CompletionResult, readCompletionStream } from './completion-stream.js';
import { classifyOpenAiHttpError } from './openai-errors.js';

/** The common target plus the model and the operator's extra body fields. */
export interface CompletionTarget extends ModelTarget {
  readonly model: string;
  readonly extraBody: Readonly<Record<string, unknown>>;
}

/**
 * The request body: streamed with usage; the operator's extra fields go last and a `null`
 * removes a field (for providers that reject `stream_options`). No `user` field: the
 * pseudonym is ours, not the provider's business.
 */
export function chatBody(
  model: string,
  messages: readonly ChatMessage[],
  extraBody: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...extraBody,
  };
  // OpenAI refuses `stream_options` without a stream; keep it only when the operator set it.
  if (body.stream !== true && !('stream_options' in extraBody)) delete body.stream_options;
  for (const [key, value] of Object.entries(body)) if (value === null) delete body[key];
  return body;
}

/** One attempt: POST the conversation, then read the streamed answer or classify the error. */
export async function requestCompletion(
  target: CompletionTarget,
  messages: readonly ChatMessage[],
  budget: QuestionBudget,
  onText: ((textSoFar: string) => void) | undefined,
): Promise<CompletionResult> {
  const res = await streamedPost(
    target.client,
    {
      url: `${target.baseUrl}/chat/completions`,
      headers: { Authorization: `Bearer ${target.apiKey}`, Accept: 'text/event-stream, application/json' },
      body: chatBody(target.model, messages, target.extraBody),
      firstByteTimeoutMs: target.firstByteTimeoutMs,
      idleTimeoutMs: target.idleTimeoutMs,
    },
    budget,
  );
  if (res.status < 200 || res.status >= 300) {
    const text = await readErrorBody(res.body);
    throw classifyOpenAiHttpError(res.status, retryAfterMs(res.headers), text);
  }
  // A server that ignores `stream: true` (or the operator's `"stream": false`) sends one object.
  return isJsonAnswer(res.headers) ? readCompletionJson(res, onText) : readCompletionStream(res, onText);
}
