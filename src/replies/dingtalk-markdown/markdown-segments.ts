/**
 * A markdown text cut into fenced code blocks and the prose between them, in one pass over its
 * lines. Code blocks are passed on untouched by every transformation and never split in the
 * middle without closing and reopening their fence.
 */
export type Segment =
  | { readonly kind: 'prose'; readonly text: string }
  | {
      readonly kind: 'code';
      /** The whole block: opening fence line, body, closing fence line (absent when unclosed). */
      readonly text: string;
      /** The opening fence line without its newline, e.g. "```python" (reopens a split block). */
      readonly open: string;
      /** The fence that closes it, e.g. "```" (with the opening line's indentation). */
      readonly close: string;
      /** False when the text ends before the block does (a streamed answer mid-block). */
      readonly closed: boolean;
    };

// Any indentation: models put fences inside list items. A backtick fence's info has no backtick.
const OPENING = /^([ \t]*)(`{3,}(?=[^`]*$)|~{3,})(.*)$/;

export function segmentsOf(text: string): Segment[] {
  const segments: Segment[] = [];
  let prose = '';
  let code: { text: string; open: string; marker: string; indent: string } | undefined;
  for (const line of linesOf(text)) {
    const bare = line.endsWith('\n') ? line.slice(0, -1) : line;
    if (code) {
      code.text += line;
      if (closesFence(bare, code.marker)) {
        segments.push({ kind: 'code', text: code.text, open: code.open, close: code.indent + code.marker, closed: true });
        code = undefined;
      }
      continue;
    }
    const m = OPENING.exec(bare);
    if (!m) {
      prose += line;
      continue;
    }
    if (prose !== '') segments.push({ kind: 'prose', text: prose });
    prose = '';
    code = { text: line, open: bare, marker: m[2]!, indent: m[1]! };
  }
  if (code) segments.push({ kind: 'code', text: code.text, open: code.open, close: code.indent + code.marker, closed: false });
  else if (prose !== '') segments.push({ kind: 'prose', text: prose });
  return segments;
}

/** The lines of `text`, each with its newline (the last one may have none). */
export function linesOf(text: string): string[] {
  const lines: string[] = [];
  let from = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', from)) {
    lines.push(text.slice(from, i + 1));
    from = i + 1;
  }
  if (from < text.length) lines.push(text.slice(from));
  return lines;
}

function closesFence(line: string, marker: string): boolean {
  const trimmed = line.trim();
  if (trimmed.length < marker.length || trimmed[0] !== marker[0]) return false;
  for (const ch of trimmed) if (ch !== marker[0]) return false;
  return true;
}
