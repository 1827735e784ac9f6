import type { BackendState } from '../assistant-backend.js';

/** One answered question: `q` asked, `a` answered, `id` the requestId it was asked with. */
export interface Turn {
  readonly q: string;
  readonly a: string;
  readonly id?: string;
}

export interface HistoryLimits {
  /** Earlier turns sent with a question at most. */
  readonly maxTurns: number;
  /** Characters of earlier turns (questions plus answers) sent at most. */
  readonly maxChars: number;
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

const STATE_VERSION = 1;

/**
 * The conversation kept locally, as the backend's opaque state `{v: 1, turns: [{q, a, id?}]}`.
 * Anything else (another backend's state, a corrupt record) reads as an empty history.
 */
export function readHistory(state: BackendState | undefined): Turn[] {
  if (!state || state.v !== STATE_VERSION || !Array.isArray(state.turns)) return [];
  const turns: Turn[] = [];
  for (const t of state.turns as unknown[]) {
    if (!t || typeof t !== 'object') continue;
    const { q, a, id } = t as Record<string, unknown>;
    if (typeof q !== 'string' || typeof a !== 'string') continue;
    turns.push(typeof id === 'string' ? { q, a, id } : { q, a });
  }
  return turns;
}

export function historyState(turns: readonly Turn[]): BackendState {
  return { v: STATE_VERSION, turns: turns.map((t) => ({ ...t })) };
}

/** The newest whole turns within both limits, oldest first. */
export function trimHistory(turns: readonly Turn[], limits: HistoryLimits): Turn[] {
  const kept: Turn[] = [];
  let chars = 0;
  for (let i = turns.length - 1; i >= 0 && kept.length < limits.maxTurns; i--) {
    const turn = turns[i]!;
    chars += turn.q.length + turn.a.length;
    if (chars > limits.maxChars) break;
    kept.push(turn);
  }
  return kept.reverse();
}

/**
 * What to store after an answer: the turns sent plus the new one, trimmed like a request so
 * the record stays bounded. The new turn is always kept, since a repeated requestId is
 * answered from it.
 */
export function nextHistory(sent: readonly Turn[], answered: Turn, limits: HistoryLimits): Turn[] {
  const kept = trimHistory([...sent, answered], limits);
  return kept.length > 0 ? kept : [answered];
}

/** The newest half of the turns (a context overflow is retried once with them). */
export function halveHistory(turns: readonly Turn[]): Turn[] {
  return turns.slice(turns.length - Math.floor(turns.length / 2));
}

/** The stored answer when `requestId` is the newest turn's (a crash before delivery). */
export function replayedTurn(turns: readonly Turn[], requestId: string | undefined): Turn | undefined {
  const newest = turns[turns.length - 1];
  return requestId !== undefined && newest?.id === requestId ? newest : undefined;
}

/** System prompt (when there is one), earlier turns oldest first, then the question. */
export function chatMessages(systemPrompt: string, turns: readonly Turn[], question: string): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (systemPrompt.trim() !== '') messages.push({ role: 'system', content: systemPrompt });
  for (const t of turns) messages.push({ role: 'user', content: t.q }, { role: 'assistant', content: t.a });
  messages.push({ role: 'user', content: question });
  return messages;
}
