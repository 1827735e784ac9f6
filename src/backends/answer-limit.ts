/**
 * How long an answer may grow while it streams in (ANSWER_MAX_CHARS). A model that never stops,
 * or a hostile upstream, must not grow the heap or the messages without bound: past the limit
 * the text is cut and this note ends it. Backends apply it where they accumulate text.
 */
export const DEFAULT_ANSWER_MAX_CHARS = 64_000;

/** Ends an answer that was cut (part of the answer text, so every door shows it). */
export const ANSWER_CUT_NOTE = '（回答过长，后面的内容已截断 · The answer was too long and was cut here.）';

/** `text` as it may be kept: unchanged within `maxChars`, else cut there (never inside a surrogate pair) with the note. */
export function capAnswer(text: string, maxChars: number = DEFAULT_ANSWER_MAX_CHARS): string {
  if (text.length <= maxChars) return text;
  return `${cutAt(text, maxChars).trimEnd()}\n\n${ANSWER_CUT_NOTE}`;
}

/** True when `text` is past the limit (the rest of a stream can be dropped). */
export function overLimit(text: string, maxChars: number = DEFAULT_ANSWER_MAX_CHARS): boolean {
  return text.length > maxChars;
}

/** The first `n` UTF-16 units, one fewer when that would split a surrogate pair. */
export function cutAt(text: string, n: number): string {
  if (text.length <= n) return text;
  const last = text.charCodeAt(n - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}
