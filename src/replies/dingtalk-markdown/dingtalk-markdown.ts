import { linesOf, segmentsOf } from './markdown-segments.js';

/**
 * Model answers as DingTalk can show them. Models write HTML, tables and nested lists; DingTalk's
 * IM markdown (robot messages) shows tables and nested lists badly and HTML not at all, while an
 * AI card's markdown renders tables. Code blocks (and inline code) are never changed.
 */

/** For a markdown robot message: HTML stripped, tables turned into list lines, nested lists flattened. */
export function toImMarkdown(text: string): string {
  return normalise(text, 'im');
}

/** For an AI card: HTML stripped, tables kept (with the blank lines around them they need). */
export function toCardMarkdown(text: string): string {
  return normalise(text, 'card');
}

type Target = 'im' | 'card';

function normalise(text: string, target: Target): string {
  if (!/[<|&]|^[ \t]{2,}(?:[-*+]|\d{1,9}[.)])[ \t]/m.test(text)) return text; // nothing to do (most answers)
  return segmentsOf(text)
    .map((s) => (s.kind === 'code' ? s.text : normaliseProse(s.text, target)))
    .join('');
}

function normaliseProse(prose: string, target: Target): string {
  const lines = linesOf(stripHtml(prose).replace(/\n{3,}/g, '\n\n'));
  const out: string[] = [];
  const list = new ListFlattener();
  for (let i = 0; i < lines.length; i++) {
    const rows = tableAt(lines, i);
    if (rows > 0) {
      const table = lines.slice(i, i + rows);
      if (out.length > 0 && out.at(-1)!.trim() !== '') out.push('\n');
      out.push(...(target === 'im' ? tableAsList(table) : table));
      i += rows - 1;
      if (i + 1 < lines.length && lines[i + 1]!.trim() !== '') out.push('\n');
      continue;
    }
    out.push(target === 'im' ? list.line(lines[i]!, out) : lines[i]!);
  }
  return out.join('');
}

// Only real HTML tag names, so `List<T>` or `a <b> c` in prose is left alone.
const HTML_TAGS =
  'a|abbr|b|big|blockquote|br|center|cite|code|dd|del|details|div|dl|dt|em|font|h[1-6]|hr|i|img|ins|kbd|li|mark|ol|p|pre|s|small|span|strike|strong|sub|summary|sup|table|tbody|td|tfoot|th|thead|tr|u|ul';
// Inline code first, so tags inside backticks are skipped; then comments, then tags.
const HTML = new RegExp(`(\`+)[^\`\\n]*?\\1|<!--[\\s\\S]*?-->|<(/?)(${HTML_TAGS})\\b[^<>]*?(/?)>`, 'gi');
const BLOCK_TAGS = new Set(['p', 'div', 'table', 'tr', 'ul', 'ol', 'dl', 'blockquote', 'pre', 'details', 'summary', 'center', 'hr']);

function stripHtml(prose: string): string {
  if (!prose.includes('<')) return prose.replace(/&nbsp;/g, ' ');
  const replaced = prose.replace(HTML, (match, tick: string | undefined, closing: string, name: string | undefined, _self: string, offset: number) => {
    if (tick !== undefined || match.startsWith('<!--')) return tick !== undefined ? match : '';
    const tag = name!.toLowerCase();
    if (tag === 'br') return inTableRow(prose, offset) ? ' ' : '  \n';
    if (tag === 'strong' || tag === 'b') return '**';
    if (tag === 'li') return closing ? '' : '\n- ';
    if (/^h[1-6]$/.test(tag) || BLOCK_TAGS.has(tag)) return '\n';
    if (tag === 'td' || tag === 'th') return closing ? ' ' : '';
    return '';
  });
  return replaced.replace(/&nbsp;/g, ' ');
}

function inTableRow(text: string, offset: number): boolean {
  const start = text.lastIndexOf('\n', offset) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(start, end < 0 ? undefined : end).trim();
  return line.startsWith('|') || line.endsWith('|');
}

const DELIMITER_ROW = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

/** How many lines from `i` form a GFM table (header, delimiter, rows), or 0. */
function tableAt(lines: readonly string[], i: number): number {
  const header = lines[i]!;
  const delimiter = lines[i + 1];
  if (!header.includes('|') || delimiter === undefined || !delimiter.includes('-') || !DELIMITER_ROW.test(delimiter)) return 0;
  if (cellsOf(header).length !== cellsOf(delimiter).length) return 0;
  let n = 2;
  while (i + n < lines.length && lines[i + n]!.includes('|') && lines[i + n]!.trim() !== '') n++;
  return n;
}

function cellsOf(row: string): string[] {
  let t = row.trim();
  if (t.startsWith('|')) t = t.slice(1);
  if (t.endsWith('|') && !t.endsWith('\\|')) t = t.slice(0, -1);
  return t.split(/(?<!\\)\|/).map((c) => c.trim());
}

/** Each row as one list line: "- **first cell** · header: cell；header: cell". */
function tableAsList(table: readonly string[]): string[] {
  const headers = cellsOf(table[0]!);
  return table.slice(2).map((row) => {
    const cells = cellsOf(row);
    const [first = '', ...rest] = cells;
    const pairs = rest
      .map((c, k) => (c === '' ? '' : headers[k + 1] ? `${headers[k + 1]}：${c}` : c))
      .filter((p) => p !== '');
    const head = first === '' ? '' : headers.length > 1 ? `**${first}**` : first;
    return `- ${[head, pairs.join('；')].filter((p) => p !== '').join(' · ')}\n`;
  });
}

const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/s;

/**
 * Nested list items become indented lines inside their parent item (ideographic spaces and a
 * hard break before them): DingTalk's IM markdown draws nested lists as one flat run.
 */
class ListFlattener {
  private inList = false;
  private readonly indents: number[] = [];

  line(line: string, out: string[]): string {
    const m = LIST_ITEM.exec(line);
    const indent = m ? width(m[1]!) : width(/^[ \t]*/.exec(line)![0]);
    if (!m) {
      if (line.trim() !== '' && indent < 2) this.inList = false;
      return line;
    }
    if (indent < 2 || !this.inList) {
      this.inList = true;
      this.indents.length = 0;
      this.indents.push(indent);
      return line;
    }
    while (this.indents.length > 1 && this.indents.at(-1)! >= indent) this.indents.pop();
    const level = Math.min(this.indents.length, 3);
    this.indents.push(indent);
    hardBreakBefore(out);
    const marker = /^\d/.test(m[2]!) ? m[2]! : '◦';
    return `${'\u3000'.repeat(level)}${marker} ${m[3]!}`;
  }
}

function hardBreakBefore(out: string[]): void {
  const prev = out.at(-1);
  if (prev === undefined || prev.trim() === '' || !prev.endsWith('\n')) return;
  const body = prev.slice(0, -1);
  if (!body.endsWith('  ')) out[out.length - 1] = `${body.trimEnd()}  \n`;
}

function width(indent: string): number {
  let w = 0;
  for (const ch of indent) w += ch === '\t' ? 4 : 1;
  return w;
}
