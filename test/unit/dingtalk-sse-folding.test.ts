import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { createRunStreamState, foldRunEvent, partialAnswer, streamedAnswer } from '../../src/backends/dingtalk-assistant/sse-folder.js';
import { SseLineSplitter } from '../../src/backends/dingtalk-assistant/sse-lines.js';
import { extractAnswer } from '../../src/backends/dingtalk-assistant/answer-reader.js';

const M = 'message_75c25f6c8cd847d4b1971e5765b59486';
const run = (event: string, statusEnum: string, extra: object = {}) =>
  `event:${event}\ndata:${JSON.stringify({ runId: 'run_1', statusEnum, threadId: 't', ...extra })}\n`;
const delta = (mode: string, value: string, id = M) =>
  `event:thread.message.delta\ndata:${JSON.stringify({ mode, delta: { role: 'assistant', text: { value }, type: 'text' }, messageId: id })}\n`;
const completed = (content: string, id = M) =>
  `event:thread.message.completed\ndata:${JSON.stringify({ deleted: 0, message: { content, role: 'assistant' }, messageId: id, runId: 'run_1' })}\n`;

/** The doc sample (reference §2.4), without blank lines between events, as printed there. */
const SAMPLE = [
  run('thread.run.created', 'in_progress'),
  `event:thread.message.created\ndata:${JSON.stringify({ message: { content: '', contentType: 'text', role: 'assistant' }, messageId: M })}\n`,
  delta('overwrite', '你好'),
  delta('overwrite', '你好！有什么'),
  delta('overwrite', '你好！有什么可以帮助你的吗？比如查询某个地方的天气。&&Next'),
  delta('overwrite', '你好！有什么可以帮助你的吗？比如查询某个地方的天气。'),
  completed('你好！有什么可以帮助你的吗？比如查询某个地方的天气。'),
  run('thread.run.completed', 'completed'),
  'event:done\ndata:[DONE]\n',
].join('');

/** Feeds `text` in pieces of `size` bytes, splitting UTF-8 characters across pieces. */
function fold(text: string, size: number) {
  const state = createRunStreamState();
  const parser = createParser({ onEvent: (e) => foldRunEvent(state, e) });
  const lines = new SseLineSplitter((t) => parser.feed(t));
  const decoder = new TextDecoder();
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) lines.push(decoder.decode(bytes.subarray(i, i + size), { stream: true }));
  lines.end();
  return state;
}

describe('run stream folding', () => {
  it.each([1, 2, 7, 64, 100_000])('folds the doc sample fed in %i-byte chunks', (size) => {
    const state = fold(SAMPLE, size);
    expect(state).toMatchObject({ runId: 'run_1', outcome: 'completed', done: true });
    expect(streamedAnswer(state)).toBe('你好！有什么可以帮助你的吗？比如查询某个地方的天气。');
  });

  it('accepts standard SSE with blank lines and a space after the colon', () => {
    const spaced = SAMPLE.replace(/^(event|data):/gm, '$1: ').replace(/\n(?=event)/g, '\n\n');
    expect(streamedAnswer(fold(spaced, 5))).toBe('你好！有什么可以帮助你的吗？比如查询某个地方的天气。');
  });

  it('appends append-mode deltas and overwrites overwrite-mode ones, per message', () => {
    const text = [delta('append', '你'), delta('append', '好', 'm2'), delta('append', '们'), delta('overwrite', '全新', 'm2')].join('');
    const state = fold(`${text}${run('thread.run.completed', 'completed')}`, 3);
    expect(state.messages.get(M)?.text).toBe('你们');
    expect(state.messages.get('m2')?.text).toBe('全新');
    expect(streamedAnswer(state)).toBe('你们\n\n全新');
  });

  it('keeps the transient &&Next only until the completed content replaces it', () => {
    const state = fold(delta('overwrite', '答案&&Next'), 4);
    expect(streamedAnswer(state)).toBe('答案&&Next');
    foldRunEvent(state, { event: 'thread.message.completed', data: JSON.stringify({ messageId: M, message: { content: '答案', role: 'assistant' } }) });
    expect(streamedAnswer(state)).toBe('答案');
  });

  it('shows the answer so far without the transient &&Next marker', () => {
    const state = fold(delta('overwrite', '你好！有什么&&Next'), 4);
    expect(partialAnswer(state)).toBe('你好！有什么');
    foldRunEvent(state, { event: 'thread.message.delta', data: JSON.stringify({ mode: 'overwrite', messageId: M, delta: { type: 'text', text: { value: '你好！有什么可以帮你' } } }) });
    expect(partialAnswer(state)).toBe('你好！有什么可以帮你');
  });

  it.each([
    ['thread.run.failed', 'failed'],
    ['thread.run.completed', 'failed'],
    ['thread.run.completed', 'expired'],
    ['thread.run.updated', 'cancelled'],
  ])('treats %s with statusEnum %s as a failed run', (event, status) => {
    const state = fold(run('thread.run.created', 'in_progress') + run(event, status, { lastErrorMsg: 'model down' }), 9);
    expect(state).toMatchObject({ outcome: 'failed', endStatus: status });
  });

  it('treats an error event as failure and requires_action as still running', () => {
    expect(fold(run('thread.run.requires_action', 'requires_action'), 5).outcome).toBeUndefined();
    expect(fold('event:error\ndata:{"message":"boom"}\n', 5)).toMatchObject({ outcome: 'failed', lastErrorMsg: 'boom' });
  });

  it('ignores garbage data lines', () => {
    const state = fold(`event:thread.message.delta\ndata:not json\n${run('thread.run.created', 'queued')}`, 3);
    expect(state.runId).toBe('run_1');
    expect(state.outcome).toBeUndefined();
  });
});

describe('extractAnswer (list-messages recipe)', () => {
  it('keeps assistant and tool messages, sorted ascending, text items only', () => {
    const answer = extractAnswer([
      { role: 'assistant', createdAt: 3, content: [{ type: 'text', text: { value: '第二' } }, { type: 'card' }] },
      { role: 'user', createdAt: 1, content: [{ type: 'text', text: { value: '问题' } }] },
      { role: 'tool', createdAt: 2, content: [{ type: 'markdown' }, { type: 'text', text: { value: '第一' } }] },
      { role: 'assistant', createdAt: 4, content: 'plain string' },
    ]);
    expect(answer).toBe('第一\n\n第二\n\nplain string');
  });
});
