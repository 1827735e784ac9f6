import { linesOf, segmentsOf } from './markdown-segments.js';

/** How big one part may be: characters (UTF-16 units) and UTF-8 bytes once escaped into JSON. */
export interface PartBudget {
  readonly maxChars: number;
  /** Bytes of the part inside a JSON string, without the quotes. Unlimited when absent. */
  readonly maxJsonBytes?: number;
}

/**
 * Splits a long answer into parts DingTalk accepts. Paragraphs stay whole when they fit; a long
 * paragraph is cut between sentences, and only a too-long sentence is hard-cut (never inside a
 * surrogate pair). A code block is never cut inside: it moves whole to the next part, and one
 * too long for any part is cut between lines, its fence closed at the end of one part and
 * reopened at the start of the next so every part renders. Without such a block the parts
 * joined give the text back. Linear: every piece is measured once.
 */
export function splitMessage(text: string, budget: PartBudget): string[] {
  const splitter = new MessageSplitter(text);
  const parts: string[] = [];
  for (let part = splitter.next(budget); part !== undefined; part = splitter.next(budget)) parts.push(part);
  return parts;
}

type PieceKind = 'paragraph' | 'sentence' | 'code';

interface Piece {
  readonly kind: PieceKind;
  readonly text: string;
  readonly size: Size;
  /** Code pieces: the fence lines to reopen and close the block when it is cut. */
  readonly open?: string;
  readonly close?: string;
}

interface Size {
  chars: number;
  bytes: number;
}

/** Hands out parts one at a time, each within the budget given for it; `rest` is what is left. */
export class MessageSplitter {
  /** Pieces still to hand out, the next one last (a stack: cutting a piece pushes its halves). */
  private readonly pending: Piece[];

  constructor(text: string) {
    const pieces: Piece[] = [];
    for (const s of segmentsOf(text)) {
      if (s.kind === 'code') pieces.push(piece('code', s.text, s.open, s.closed ? s.close : undefined));
      else for (const p of piecesOf(s.text, PARAGRAPH_END)) pieces.push(piece('paragraph', p));
    }
    this.pending = pieces.reverse();
  }

  /** The next part, or undefined when nothing is left. */
  next(budget: PartBudget): string | undefined {
    if (this.pending.length === 0) return undefined;
    const fits = (extra: Size, used: Size) =>
      used.chars + extra.chars <= budget.maxChars && used.bytes + extra.bytes <= (budget.maxJsonBytes ?? Infinity);
    let part = '';
    const used: Size = { chars: 0, bytes: 0 };
    while (this.pending.length > 0) {
      const p = this.pending.at(-1)!;
      if (fits(p.size, used)) {
        this.pending.pop();
        part += p.text;
        used.chars += p.size.chars;
        used.bytes += p.size.bytes;
        continue;
      }
      if (part !== '') break; // the piece starts the next part
      this.pending.pop();
      if (!this.cut(p, budget)) return p.text; // one code point wider than the budget: send it anyway
    }
    return part;
  }

  /** Everything not handed out yet, as text (a cut code block starts with its reopened fence). */
  rest(): string {
    return [...this.pending].reverse().map((p) => p.text).join('');
  }

  /** Replaces a piece too big for an empty part by smaller ones; false when it cannot be cut. */
  private cut(p: Piece, budget: PartBudget): boolean {
    let smaller =
      p.kind === 'paragraph'
        ? piecesOf(p.text, SENTENCE_END).map((t) => piece('sentence', t))
        : p.kind === 'code'
          ? (cutCode(p, budget) ?? hardCut(p.text, budget))
          : hardCut(p.text, budget);
    // A paragraph of one sentence is hard-cut at once.
    if (smaller.length === 1 && p.kind === 'paragraph') smaller = hardCut(p.text, budget);
    if (smaller.length === 1 && smaller[0]!.text === p.text) return false;
    for (let i = smaller.length - 1; i >= 0; i--) this.pending.push(smaller[i]!);
    return true;
  }
}

function piece(kind: PieceKind, text: string, open?: string, close?: string): Piece {
  return { kind, text, size: sizeOf(text), open, close };
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

/**
 * A code block too long for a part: as many whole lines as fit with the fence closed after them,
 * then the rest with the fence reopened. Undefined when not even one line fits (then hard-cut).
 */
function cutCode(p: Piece, budget: PartBudget): Piece[] | undefined {
  const close = p.close ?? p.open!.replace(/^([ \t]*)(`+|~+).*$/, '$1$2');
  const lines = linesOf(p.text);
  const head = lines[0]!.endsWith('\n') ? lines[0]! : `${lines[0]!}\n`;
  const bodyEnd = p.close !== undefined ? lines.length - 1 : lines.length;
  const tail = `\n${close}`;
  const used = sizeOf(head + tail);
  let taken = 1;
  for (; taken < bodyEnd; taken++) {
    const s = sizeOf(lines[taken]!);
    if (used.chars + s.chars > budget.maxChars || used.bytes + s.bytes > (budget.maxJsonBytes ?? Infinity)) break;
    used.chars += s.chars;
    used.bytes += s.bytes;
  }
  if (taken <= 1 || taken >= bodyEnd) return undefined;
  // The first part ends with the closing fence; its size is within `used` (one newline fewer).
  const body = lines.slice(1, taken).join('').replace(/\n$/, '');
  const first: Piece = piece('sentence', `${head}${body}${tail}`);
  const rest = piece('code', head + lines.slice(taken).join(''), p.open, p.close);
  return [first, rest];
}

/** Greedy cut by code points; each chunk is the longest prefix that fits (at least one code point). */
function hardCut(text: string, budget: PartBudget): Piece[] {
  const chunks: Piece[] = [];
  let start = 0;
  let used: Size = { chars: 0, bytes: 0 };
  let i = 0;
  for (const ch of text) {
    const s = sizeOf(ch);
    const over = used.chars + s.chars > budget.maxChars || used.bytes + s.bytes > (budget.maxJsonBytes ?? Infinity);
    if (over && i > start) {
      chunks.push(piece('sentence', text.slice(start, i)));
      start = i;
      used = { chars: 0, bytes: 0 };
    }
    used.chars += s.chars;
    used.bytes += s.bytes;
    i += ch.length;
  }
  if (start < text.length) chunks.push(piece('sentence', text.slice(start)));
  return chunks;
}

/** Characters and JSON-escaped UTF-8 bytes of `text`; additive over concatenation of whole code points. */
export function sizeOf(text: string): Size {
  return { chars: text.length, bytes: Buffer.byteLength(JSON.stringify(text), 'utf8') - 2 };
}
