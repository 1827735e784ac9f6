import { MessageSplitter, type PartBudget, sizeOf } from './split-message.js';

/** A last paragraph this short is the answer's ending (the AI label): kept when the middle is cut. */
const ENDING_MAX_CHARS = 300;

/**
 * An answer as at most `maxParts` messages, each within `budget`: split as `splitMessage` does
 * (never inside a code block), and when more would be needed, the last part is cut shorter and
 * ends with `cutNote`, followed by the answer's own short last paragraph (its AI label must
 * survive any cut). Only as much of the text as is sent is ever split (linear in its length).
 */
export function answerParts(text: string, budget: PartBudget, maxParts: number, cutNote: string): string[] {
  const splitter = new MessageSplitter(text);
  const parts: string[] = [];
  while (parts.length < maxParts - 1) {
    const part = splitter.next(budget);
    if (part === undefined) return parts;
    if (part.trim() !== '') parts.push(part.trim());
  }
  const rest = splitter.rest();
  if (rest.trim() === '') return parts;
  const whole = new MessageSplitter(rest);
  const last = whole.next(budget) ?? '';
  if (whole.rest().trim() === '') return [...parts, last.trim()].filter((p) => p !== '');
  // Room for the note and the ending: the last part is taken again from a smaller budget.
  const ending = endingOf(text);
  const tail = ending ? `\n\n${cutNote}\n\n${ending}` : `\n\n${cutNote}`;
  const room = sizeOf(tail);
  const smaller = { maxChars: budget.maxChars - room.chars, maxJsonBytes: budget.maxJsonBytes === undefined ? undefined : budget.maxJsonBytes - room.bytes };
  const cut = (new MessageSplitter(rest).next(smaller) ?? '').trim();
  return [...parts, `${cut}${tail}`.trim()];
}

/** The text's last paragraph when it is short (the AI label), else undefined. */
function endingOf(text: string): string | undefined {
  const trimmed = text.trimEnd();
  const at = trimmed.lastIndexOf('\n\n');
  const ending = at < 0 ? '' : trimmed.slice(at + 2).trim();
  return ending !== '' && ending.length <= ENDING_MAX_CHARS ? ending : undefined;
}
