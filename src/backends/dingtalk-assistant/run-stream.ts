import type { Readable } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AssistantError } from '../../errors.js';
import type { CallBudget } from './call-budget.js';
import { cancelledError, timeoutError } from '../question-budget.js';
import { createRunStreamState, foldRunEvent, partialAnswer, type RunStreamState, streamedAnswer } from './sse-folder.js';
import { MAX_LINE_CHARS, SseLineSplitter } from './sse-lines.js';

export type StreamOutcome =
  | { readonly status: 'completed'; readonly runId?: string; readonly answer: string }
  | { readonly status: 'failed'; readonly runId?: string; readonly endStatus?: string; readonly lastErrorMsg?: string }
  | { readonly status: 'broken'; readonly runId?: string; readonly reason: string };

/** How long the rest of a finished stream may take to drain before its socket is dropped. */
const DRAIN_GRACE_MS = 5_000;

/**
 * Reads a streaming run until it ends, calling `onRunId` as soon as the run id is known and
 * `onText` with the answer so far whenever it changes. The answer is ready at
 * `thread.run.completed`; the rest of the stream drains in the background so the keep-alive
 * socket goes back to the pool. Throws `timeout`/`cancelled` at the budget's end. The answer
 * keeps at most `maxAnswerChars` (ANSWER_MAX_CHARS), then ends with a note that it was cut.
 */
export async function readRunStream(
  body: NodeJS.ReadableStream,
  budget: CallBudget,
  onRunId: (runId: string) => Promise<void>,
  onText?: (textSoFar: string) => void,
  maxAnswerChars?: number,
): Promise<StreamOutcome> {
  const stream = body as Readable;
  const state = createRunStreamState(maxAnswerChars);
  const events: EventSourceMessage[] = [];
  // One event holds one JSON line; a stream that never ends an event must not fill the heap.
  const parser = createParser({ onEvent: (e) => events.push(e), maxBufferSize: MAX_LINE_CHARS });
  const lines = new SseLineSplitter((text) => parser.feed(text));
  const decoder = new TextDecoder('utf-8');
  let announced = false;
  const progress = new TextProgress(onText);
  let stoppedBy: 'deadline' | 'abort' | undefined;
  const stop = (why: 'deadline' | 'abort') => {
    stoppedBy ??= why;
    stream.destroy();
  };
  const timer = setTimeout(() => stop('deadline'), Math.max(0, budget.remaining()));
  const onAbort = () => stop('abort');
  budget.signal?.addEventListener('abort', onAbort, { once: true });

  const step = async (): Promise<StreamOutcome | undefined> => {
    for (let ev = events.shift(); ev; ev = events.shift()) foldRunEvent(state, ev);
    if (state.runId && !announced) {
      announced = true;
      await onRunId(state.runId);
    }
    progress.report(state);
    return outcomeOf(state);
  };

  try {
    let finished: StreamOutcome | undefined;
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
      lines.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true }));
      finished = await step();
      if (finished) break;
    }
    if (finished) {
      // Only once the loop has exited has the iterator let go of the stream; resumed earlier,
      // the stream stays paused and holds its socket until DRAIN_GRACE_MS destroys it.
      drainInBackground(stream);
      return finished;
    }
    lines.push(decoder.decode());
    lines.end();
    return (await step()) ?? { status: 'broken', runId: state.runId, reason: 'the stream ended before the run did' };
  } catch (err) {
    if (stoppedBy === 'abort') throw cancelledError();
    if (stoppedBy === 'deadline') throw timeoutError();
    if (err instanceof AssistantError) throw err;
    stream.destroy(); // e.g. a line past MAX_LINE_CHARS: nothing more of it is read
    return { status: 'broken', runId: state.runId, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    budget.signal?.removeEventListener('abort', onAbort);
  }
}

function outcomeOf(state: RunStreamState): StreamOutcome | undefined {
  if (state.outcome === 'completed') return { status: 'completed', runId: state.runId, answer: streamedAnswer(state) };
  if (state.outcome === 'failed') {
    return { status: 'failed', runId: state.runId, endStatus: state.endStatus, lastErrorMsg: state.lastErrorMsg };
  }
  if (state.done) return { status: 'broken', runId: state.runId, reason: 'done arrived before the run ended' };
  return undefined;
}

/** Calls `onText` when the folded text changed; a failing listener never breaks the run. */
class TextProgress {
  private last = '';

  constructor(private readonly onText: ((textSoFar: string) => void) | undefined) {}

  report(state: RunStreamState): void {
    if (!this.onText || state.outcome === 'failed') return;
    const text = partialAnswer(state);
    if (text === this.last || text.trim() === '') return;
    this.last = text;
    try {
      this.onText(text);
    } catch {
      // The answer still arrives whole at the end; a broken preview must not cost it.
    }
  }
}

function drainInBackground(stream: Readable): void {
  if (stream.readableEnded || stream.destroyed) return;
  const timer = setTimeout(() => stream.destroy(), DRAIN_GRACE_MS);
  timer.unref();
  stream.once('close', () => clearTimeout(timer));
  stream.once('end', () => clearTimeout(timer));
  stream.on('error', () => undefined);
  stream.resume();
}
