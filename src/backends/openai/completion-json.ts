import { readBoundedBody } from '../../read-bounded-body.js';
import { AnswerText } from '../model-http/answer-text.js';
import { asJsonObject } from '../model-http/json-object.js';
import { ModelCallError } from '../model-http/model-call-error.js';
import type { StreamedResponse } from '../model-http/streamed-post.js';
import type { CompletionResult } from './completion-stream.js';
import { readUsage } from './completion-usage.js';
import { classifyOpenAiStreamError } from './openai-errors.js';

/** A whole answer of ANSWER_MAX_CHARS escaped as JSON (`\uXXXX` is 6 bytes), with room to spare. */
const MAX_JSON_ANSWER_BYTES = 4 * 1024 * 1024;

/** True when the model service answered with one JSON object instead of an event stream. */
export function isJsonAnswer(headers: Readonly<Record<string, unknown>>): boolean {
  const type = String(headers['content-type'] ?? '').toLowerCase();
  return /^application\/([\w.+-]*\+)?json\b/.test(type);
}

/**
 * Reads a `chat.completion` object: what a server that ignores `stream: true` sends (some
 * self-hosted gateways and proxies do), or any server when the operator set `"stream": false`
 * in OPENAI_EXTRA_BODY. The text goes through the same cleaning and cap as a streamed answer and
 * is reported once, whole.
 */
export async function readCompletionJson(
  res: StreamedResponse,
  onText: ((textSoFar: string) => void) | undefined,
  maxBytes = MAX_JSON_ANSWER_BYTES,
): Promise<CompletionResult> {
  const { text: raw, overflow } = await readBoundedBody(res.body, { maxBytes });
  if (overflow) throw new ModelCallError('failed', 'model answer larger than the limit', { upstreamCode: 'answer_too_large' });
  const body = asJsonObject(raw);
  if (!body) throw new ModelCallError('failed', 'model answer was not a JSON object', { upstreamCode: 'bad_json_answer' });
  if (body.error != null) throw classifyOpenAiStreamError(body.error);
  const choice = asJsonObject(Array.isArray(body.choices) ? body.choices[0] : undefined);
  const finishReason = typeof choice?.finish_reason === 'string' && choice.finish_reason !== '' ? choice.finish_reason : undefined;
  if (finishReason === 'content_filter') {
    throw new ModelCallError('blocked', 'model answer filtered (content_filter)', { upstreamCode: 'content_filter' });
  }
  const content = asJsonObject(choice?.message)?.content;
  if (typeof content !== 'string') {
    throw new ModelCallError('failed', 'model answer had no message content', { upstreamCode: 'no_content' });
  }
  const text = new AnswerText(onText);
  text.append(content);
  return { answer: text.finish(), finishReason, usage: readUsage(body.usage) };
}
