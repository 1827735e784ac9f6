import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { StreamedResponse } from '../../src/backends/model-http/streamed-post.js';
import { readCompletionStream } from '../../src/backends/openai/completion-stream.js';
import { AssistantError } from '../../src/errors.js';

const response = (...chunks: string[]): StreamedResponse => ({
  status: 200,
  headers: {},
  body: Readable.from(chunks.map((c) => Buffer.from(c, 'utf8'))),
  setIdleTimeout: () => undefined,
});
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } })}\n\n`;

const read = (...chunks: string[]) =>
  readCompletionStream(response(...chunks), undefined).catch((err: unknown) => err as AssistantError);

describe('readCompletionStream', () => {
  it('reads past finish_reason for the usage chunk; comments and empty deltas are skipped', async () => {
    const result = await read(
      ': keep-alive\n\n',
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: '好' }),
      chunk({}, 'stop'),
      usage,
      'data: [DONE]\n\n',
    );
    expect(result).toEqual({ answer: '好', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 2 } });
  });

  it('[DONE] alone ends an answer; so does a finish_reason when the stream then ends', async () => {
    expect(await read(chunk({ content: 'a' }), 'data: [DONE]\n\n')).toMatchObject({ answer: 'a' });
    expect(await read(chunk({ content: 'b' }), chunk({}, 'stop'))).toMatchObject({ answer: 'b' });
  });

  it('a stream with neither [DONE] nor finish_reason is a retryable unavailable', async () => {
    const result = await read(chunk({ content: '半' }));
    expect(result).toBeInstanceOf(AssistantError);
    expect((result as AssistantError).kind).toBe('unavailable');
  });

  it('CRLF line ends and data: without a space are read', async () => {
    const data = JSON.stringify({ choices: [{ delta: { content: '行' }, finish_reason: 'stop' }] });
    const result = await read(`data:${data}\r\n\r\n`);
    expect(result).toMatchObject({ answer: '行' });
  });

  it('content_filter and a moderation error event are blocked', async () => {
    expect(((await read(chunk({ content: 'x' }, 'content_filter'))) as AssistantError).kind).toBe('blocked');
    const error = JSON.stringify({ message: 'Output data may contain inappropriate content.' });
    const event = `event: error\ndata: ${error}\n\n`;
    expect(((await read(event)) as AssistantError).kind).toBe('blocked');
  });

  it('ignores reasoning fields and broken chunks', async () => {
    const result = await read(
      chunk({ reasoning_content: '想' }),
      chunk({ reasoning: '想' }),
      'data: {broken\n\n',
      chunk({ content: '答' }, 'stop'),
    );
    expect(result).toMatchObject({ answer: '答' });
  });
});
