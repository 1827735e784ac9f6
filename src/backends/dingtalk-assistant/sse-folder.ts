import { capAnswer, cutAt, DEFAULT_ANSWER_MAX_CHARS } from '../answer-limit.js';
import { RUNNING_STATUSES } from './wire-types.js';

/** One SSE event as the parser hands it over. */
export interface SseEvent {
  readonly event?: string;
  readonly data: string;
}

interface StreamedMessage {
  role?: string;
  /** Text folded from deltas so far. */
  text: string;
  /** `thread.message.completed`'s content, which is authoritative. */
  final?: string;
  /** The text reached the answer limit: appended deltas are dropped. */
  cut?: boolean;
}

/** What a run's stream has said so far. */
export interface RunStreamState {
  runId?: string;
  outcome?: 'completed' | 'failed';
  /** The statusEnum that ended the run (`failed`, or an unknown terminal one). */
  endStatus?: string;
  lastErrorMsg?: string;
  /** `done` / `[DONE]` arrived. */
  done: boolean;
  /** By messageId, in creation order. */
  readonly messages: Map<string, StreamedMessage>;
  /** ANSWER_MAX_CHARS: no message keeps more (one character more marks it as cut). */
  readonly maxChars: number;
}

export function createRunStreamState(maxChars = DEFAULT_ANSWER_MAX_CHARS): RunStreamState {
  return { done: false, messages: new Map(), maxChars };
}

type Data = Record<string, unknown>;

/**
 * Folds one event into the state (reference §2.4). Deltas are keyed by messageId; `overwrite`
 * replaces the text so far, `append` adds to it. Failure events are undocumented, so any
 * `error`/`thread.run.failed` event, or a run event with a statusEnum that is neither running
 * nor completed, ends the run as failed.
 */
export function foldRunEvent(state: RunStreamState, ev: SseEvent): void {
  const name = ev.event ?? 'message';
  if (name === 'done' || ev.data.trim() === '[DONE]') {
    state.done = true;
    return;
  }
  const data = parseObject(ev.data);
  if (name === 'error') return fail(state, 'error', str(data?.message) ?? str(data?.lastErrorMsg) ?? ev.data);
  if (!data) return;
  if (name.startsWith('thread.run.')) return foldRunStatus(state, name, data);
  const messageId = str(data.messageId);
  if (!messageId || !name.startsWith('thread.message.')) return;
  const message = state.messages.get(messageId) ?? { text: '' };
  state.messages.set(messageId, message);
  const body = data.message as Data | undefined;
  if (name === 'thread.message.created') message.role ??= str(body?.role);
  if (name === 'thread.message.delta') foldDelta(message, data, state.maxChars);
  if (name === 'thread.message.completed') {
    message.role = str(body?.role) ?? message.role;
    message.final = cutAt(contentText(body?.content) ?? message.text, state.maxChars + 1);
  }
}

function foldDelta(message: StreamedMessage, data: Data, maxChars: number): void {
  const delta = data.delta as Data | undefined;
  if (delta?.type !== undefined && delta.type !== 'text') return;
  const append = data.mode === 'append';
  if (append && message.cut) return; // past the limit: nothing more is kept
  const value = str((delta?.text as Data | undefined)?.value) ?? '';
  message.role ??= str(delta?.role);
  // Unknown modes are treated as overwrite: replacing can lose nothing that a later delta keeps.
  const text = append ? message.text + value : value;
  message.cut = text.length > maxChars;
  message.text = message.cut ? cutAt(text, maxChars + 1) : text;
}

function foldRunStatus(state: RunStreamState, name: string, data: Data): void {
  state.runId ??= str(data.runId) ?? str(data.id);
  const status = str(data.statusEnum) ?? str(data.status);
  if (name === 'thread.run.failed' || name === 'thread.run.cancelled' || name === 'thread.run.expired') {
    return fail(state, status ?? name.slice('thread.run.'.length), str(data.lastErrorMsg));
  }
  if (status === undefined) {
    if (name === 'thread.run.completed') state.outcome ??= 'completed';
    return;
  }
  if (RUNNING_STATUSES.has(status)) return;
  if (status === 'completed') state.outcome ??= 'completed';
  else fail(state, status, str(data.lastErrorMsg));
}

function fail(state: RunStreamState, status: string, lastErrorMsg: string | undefined): void {
  if (state.outcome) return;
  state.outcome = 'failed';
  state.endStatus = status;
  state.lastErrorMsg = lastErrorMsg;
}

/** The answer: completed (else folded) text of the assistant/tool messages, in order. */
export function streamedAnswer(state: RunStreamState): string {
  const text = [...state.messages.values()]
    .filter((m) => m.role !== 'user')
    .map((m) => (m.final ?? m.text).trim())
    .filter((t) => t !== '')
    .join('\n\n');
  return capAnswer(text, state.maxChars);
}

/**
 * The answer as far as it has been written: like `streamedAnswer`, without the transient
 * `&&Next` marker DingTalk's overwrite deltas may end with (the next delta drops it).
 */
export function partialAnswer(state: RunStreamState): string {
  const text = [...state.messages.values()]
    .filter((m) => m.role !== 'user')
    .map((m) => (m.final ?? m.text.replace(TRANSIENT_SUFFIX, '')).trim())
    .filter((t) => t !== '')
    .join('\n\n');
  return capAnswer(text, state.maxChars);
}

const TRANSIENT_SUFFIX = /&&Next$/;

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  return content
    .filter((c: Data | null) => c?.type === 'text')
    .map((c: Data) => str((c.text as Data | undefined)?.value) ?? '')
    .join('\n');
}

function parseObject(text: string): Data | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Data) : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
