/**
 * Splits a long answer into parts DingTalk accepts, without losing or repeating anything:
 * the parts joined give the original text back. Paragraphs stay whole when they fit; a long
 * paragraph is cut between sentences, and only a too-long sentence is hard-cut (never inside
 * a surrogate pair). `fits` decides whether a part (before any marker) is small enough.
 */
export function splitMessage(text: string, fits: (part: string) => boolean): string[] {
  if (fits(text)) return [text];
  const parts: string[] = [];
  let current = '';
  const flush = () => {
    if (current !== '') parts.push(current);
    current = '';
  };
  for (const paragraph of piecesOf(text, PARAGRAPH_END)) {
    if (fits(current + paragraph)) {
      current += paragraph;
      continue;
    }
    flush();
    if (fits(paragraph)) {
      current = paragraph;
      continue;
    }
    for (const sentence of piecesOf(paragraph, SENTENCE_END)) {
      if (fits(current + sentence)) {
        current += sentence;
        continue;
      }
      flush();
      const cuts = hardCut(sentence, fits);
      current = cuts.pop() ?? '';
      parts.push(...cuts);
    }
  }
  flush();
  return parts;
}

// A paragraph ends after a blank line; a sentence after its punctuation (and spaces) or a newline.
const PARAGRAPH_END = /\n[ \t]*\n\s*/g;
const SENTENCE_END = /(?:[。！？；…]+|[.!?;]+(?=\s|$))["'”’）)]*\s*|\n\s*/g;

/** Splits after each match of `end`, keeping the separator on the piece it ends. */
function piecesOf(text: string, end: RegExp): string[] {
  const pieces: string[] = [];
  let from = 0;
  for (const m of text.matchAll(end)) {
    const to = m.index + m[0].length;
    if (to > from) pieces.push(text.slice(from, to));
    from = to;
  }
  if (from < text.length) pieces.push(text.slice(from));
  return pieces;
}

/** Greedy cut by code points; each chunk is the longest prefix that still fits. */
function hardCut(text: string, fits: (part: string) => boolean): string[] {
  const chars = Array.from(text);
  const chunks: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let lo = start + 1;
    let hi = chars.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(chars.slice(start, mid).join(''))) lo = mid;
      else hi = mid - 1;
    }
    chunks.push(chars.slice(start, lo).join(''));
    start = lo;
  }
  return chunks;
}
