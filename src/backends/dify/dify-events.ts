import type { TokenUsage } from '../assistant-backend.js';
import { AnswerText } from '../model-http/answer-text.js';
import { asJsonObject } from '../model-http/json-object.js';
import { ModelCallError } from '../model-http/model-call-error.js';
import { sseEvents } from '../model-http/sse-events.js';
import type { StreamedResponse } from '../model-http/streamed-post.js';
import { classifyDifyStreamError } from './dify-errors.js';

export interface DifyStreamHooks {
  readonly onText?: (textSoFar: string) => void;
  /** Called with every conversation id the events carry, before the event is applied. */
  readonly onConversationId: (conversationId: string) => Promise<void>;
}

export interface DifyStreamResult {
  readonly answer: string;
  readonly conversationId?: string;
  readonly usage?: TokenUsage;
}

/** Events that pause the app for a human form, which a chat bot cannot show. */
const PAUSE_EVENTS = new Set(['workflow_paused', 'human_input_required']);

/**
 * Reads a Dify `chat-messages` stream until `message_end`. `message`/`agent_message` append,
 * `message_replace` replaces the whole answer (moderation's preset), `error` fails, a pause
 * for a form is `unsupported`; `ping` and any other event are skipped. A stream that stops
 * before `message_end` was cut short and fails as retryable `unavailable`.
 */
export async function readDifyStream(res: StreamedResponse, hooks: DifyStreamHooks): Promise<DifyStreamResult> {
  const text = new AnswerText(hooks.onText);
  let conversationId: string | undefined;
  for await (const event of sseEvents(res.body)) {
    // Dify names the event inside the JSON; an `event:` line (pings, some proxies) counts too.
    const data = asJsonObject(event.data) ?? {};
    const name = typeof data.event === 'string' ? data.event : event.event;
    if (typeof data.conversation_id === 'string' && data.conversation_id !== '') {
      conversationId = data.conversation_id;
      await hooks.onConversationId(conversationId);
    }
    if (name === 'message' || name === 'agent_message') text.append(str(data.answer));
    else if (name === 'message_replace') text.replace(str(data.answer));
    else if (name === 'error') throw classifyDifyStreamError(data);
    else if (name !== undefined && PAUSE_EVENTS.has(name)) {
      throw new ModelCallError('unsupported', `dify app paused for a form (${name})`, { upstreamCode: name });
    } else if (name === 'message_end') {
      return { answer: text.finish(), conversationId, usage: readUsage(data.metadata) };
    }
  }
  throw new ModelCallError('unavailable', 'dify stream ended before message_end', {
    retryable: true,
    upstreamCode: 'stream_cut_short',
  });
}

function readUsage(metadata: unknown): TokenUsage | undefined {
  const usage = asJsonObject(asJsonObject(metadata)?.usage);
  if (!usage) return undefined;
  const promptTokens = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : undefined;
  const completionTokens = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : undefined;
  return promptTokens === undefined && completionTokens === undefined ? undefined : { promptTokens, completionTokens };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
