import { toCardMarkdown } from '../dingtalk-markdown/dingtalk-markdown.js';
import { MessageSplitter } from '../dingtalk-markdown/split-message.js';

/** What one card holds (DingTalk advises ~3 K in total for streamed content). */
export const CARD_MAX_CHARS = 3_000;

export interface CardContent {
  /** The card's text: the answer, or its first part (with `continuedNote` once final). */
  readonly shown: string;
  /** What does not fit, to follow as markdown messages (empty when none). */
  readonly rest: string;
}

/**
 * Splits an answer (or the answer so far) between the card and what follows it, never inside a
 * code block. Blank lines around it are left off (a streamed card does not flicker).
 */
export function cardContentOf(text: string, continuedNote: string, final: boolean): CardContent {
  const normalised = toCardMarkdown(text);
  if (normalised.length <= CARD_MAX_CHARS) return { shown: normalised.trim(), rest: '' };
  const splitter = new MessageSplitter(normalised);
  const first = (splitter.next({ maxChars: CARD_MAX_CHARS - continuedNote.length - 2 }) ?? '').trim();
  const rest = splitter.rest();
  if (rest.trim() === '') return { shown: first, rest: '' };
  return { shown: final ? `${first}\n\n${continuedNote}` : first, rest };
}
