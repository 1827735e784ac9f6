import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readDifyStream } from '../../src/backends/dify/dify-events.js';
import type { StreamedResponse } from '../../src/backends/model-http/streamed-post.js';
import { AssistantError } from '../../src/errors.js';

const response = (...chunks: string[]): StreamedResponse => ({
  status: 200,
  headers: {},
  body: Readable.from(chunks.map((c) => Buffer.from(c, 'utf8'))),
  setIdleTimeout: () => undefined,
});
const frame = (data: Record<string, unknown>) => `data: ${JSON.stringify(data)}\n\n`;

const metadata = { usage: { prompt_tokens: 3, completion_tokens: 2 } };

async function read(...chunks: string[]) {
  const ids: string[] = [];
  const texts: string[] = [];
  const result = await readDifyStream(response(...chunks), {
    onText: (t) => texts.push(t),
    onConversationId: async (id) => void ids.push(id),
  }).catch((err: unknown) => err as AssistantError);
  return { result, ids, texts };
}

describe('readDifyStream', () => {
  it('appends message and agent_message, skips other events, ends at message_end with usage', async () => {
    const { result, ids, texts } = await read(
      'event: ping\n\n',
      frame({ event: 'message', conversation_id: 'c1', answer: '你' }),
      frame({ event: 'agent_thought', conversation_id: 'c1', thought: '想' }),
      frame({ event: 'agent_message', conversation_id: 'c1', answer: '好' }),
      frame({ event: 'tts_message', audio: 'AAAA' }),
      frame({ event: 'message_end', conversation_id: 'c1', metadata }),
      frame({ event: 'message', answer: 'after the end' }),
    );
    expect(result).toEqual({ answer: '你好', conversationId: 'c1', usage: { promptTokens: 3, completionTokens: 2 } });
    expect(texts).toEqual(['你', '你好']);
    expect(ids).toEqual(['c1', 'c1', 'c1', 'c1']);
  });

  it('human_input_required with an empty data body (Dify 1.14.0-rc1) is unsupported', async () => {
    const { result } = await read(frame({ event: 'message', answer: 'x' }), 'event: human_input_required\ndata: \n\n');
    expect(result).toBeInstanceOf(AssistantError);
    expect((result as AssistantError).kind).toBe('unsupported');
  });

  it('a stream without message_end is a retryable unavailable, never a short answer', async () => {
    const { result } = await read(frame({ event: 'message', answer: '半句' }));
    expect((result as AssistantError).kind).toBe('unavailable');
  });

  it('a last frame without its blank line still counts', async () => {
    const { result } = await read(frame({ event: 'message', answer: '完' }), 'data: {"event":"message_end"}');
    expect(result).toMatchObject({ answer: '完' });
  });
});
