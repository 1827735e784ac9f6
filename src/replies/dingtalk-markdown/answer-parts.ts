import { MessageSplitter, type PartBudget, sizeOf } from './split-message.js';

/**
 * An answer as at most `maxParts` messages, each within `budget`: split as `splitMessage` does
 * (never inside a code block), and when more would be needed, the last part is cut shorter and
 * ends with `cutNote`. Only as much of the text as fits is ever split (linear in its length).
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
  // Room for the note: the last part is taken again from a smaller budget.
  const note = sizeOf(`\n\n${cutNote}`);
  const smaller = { maxChars: budget.maxChars - note.chars, maxJsonBytes: budget.maxJsonBytes === undefined ? undefined : budget.maxJsonBytes - note.bytes };
  const cut = (new MessageSplitter(rest).next(smaller) ?? '').trim();
  return [...parts, cut === '' ? cutNote : `${cut}\n\n${cutNote}`];
}
