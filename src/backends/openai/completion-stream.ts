import type { TokenUsage } from '../assistant-backend.js';
import { AnswerText } from '../model-http/answer-text.js';
import { asJsonObject } from '../model-http/json-object.js';
import { ModelCallError } from '../model-http/model-call-error.js';
import { sseEvents } from '../model-http/sse-events.js';
import type { StreamedResponse } from '../model-http/streamed-post.js';
import { AssistantError } from '../../errors.js';
import { readUsage } from './completion-usage.js';
import { classifyOpenAiStreamError } from './openai-errors.js';

export interface CompletionResult {
  readonly answer: string;
  readonly finishReason?: string;
  readonly usage?: TokenUsage;
}

/** Once the answer is complete only the usage chunk and `[DONE]` may follow: do not wait long. */
const AFTER_FINISH_IDLE_MS = 1_000;

interface Progress {
  finishReason?: string;
  usage?: TokenUsage;
  done: boolean;
}

/**
 * Reads one streamed chat completion. Content deltas build the answer; reasoning fields are
 * never read; `<think>` blocks are stripped. The answer is complete at `[DONE]` or a
 * `finish_reason` (reading on until `[DONE]` or the end, for the usage chunk); a stream that
 * stops before either was cut short and fails as retryable `unavailable`.
 */
export async function readCompletionStream(
  res: StreamedResponse,
  onText: ((textSoFar: string) => void) | undefined,
): Promise<CompletionResult> {
  const text = new AnswerText(onText);
  const progress: Progress = { done: false };
  try {
    for await (const event of sseEvents(res.body)) {
      if (event.data.trim() === '[DONE]') {
        progress.done = true;
        break;
      }
      if (foldChunk(event.event, event.data, text, progress)) res.setIdleTimeout(AFTER_FINISH_IDLE_MS);
    }
  } catch (err) {
    // After the finish the answer is whole: a transfer failing while we wait for the usage
    // chunk does not fail it (an error event or the caller's abort still do).
    const transfer = err instanceof AssistantError && (err.kind === 'unavailable' || err.kind === 'timeout');
    if (!transfer || progress.finishReason === undefined) throw err;
  }
  if (!progress.done && progress.finishReason === undefined) {
    throw new ModelCallError('unavailable', 'model stream ended before the answer did', {
      retryable: true,
      upstreamCode: 'stream_cut_short',
    });
  }
  return { answer: text.finish(), finishReason: progress.finishReason, usage: progress.usage };
}

/** Applies one chunk; true when it carried the `finish_reason`. Throws on errors and moderation. */
function foldChunk(eventName: string | undefined, data: string, text: AnswerText, progress: Progress): boolean {
  const chunk = asJsonObject(data);
  if (!chunk) return false;
  if (eventName === 'error' || chunk.error != null) throw classifyOpenAiStreamError(chunk.error ?? chunk);
  const usage = readUsage(chunk.usage);
  if (usage) progress.usage = usage;
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : [];
  const choice = asJsonObject(choices[0]);
  const delta = asJsonObject(choice?.delta);
  // `reasoning_content` / `reasoning` (DeepSeek, Qwen, Ollama, vLLM) are deliberately not read.
  if (typeof delta?.content === 'string') text.append(delta.content);
  const finish = choice?.finish_reason;
  if (typeof finish !== 'string' || finish === '') return false;
  if (finish === 'content_filter') {
    throw new ModelCallError('blocked', 'model answer filtered (content_filter)', { upstreamCode: 'content_filter' });
  }
  progress.finishReason = finish;
  return true;
}
