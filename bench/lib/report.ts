import { writeFileSync } from 'node:fs';

export type Status = 'PASS' | 'MISS' | 'INFO';

/** One line of the results table: a figure, its target, and whether it was met. */
export interface Row {
  readonly section: string;
  readonly metric: string;
  readonly value: string;
  readonly target: string;
  readonly status: Status;
}

/** A row with a target: PASS when `met`, else MISS. A row without a target is INFO. */
export function row(section: string, metric: string, value: string, target?: string, met?: boolean): Row {
  if (target === undefined || met === undefined) return { section, metric, value, target: target ?? '—', status: 'INFO' };
  return { section, metric, value, target, status: met ? 'PASS' : 'MISS' };
}

/** Prints the rows as an aligned text table (section headings between groups). */
export function printTable(rows: readonly Row[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  rows = sortBySection(rows);
  const w = {
    metric: Math.max(6, ...rows.map((r) => width(r.metric))),
    value: Math.max(5, ...rows.map((r) => width(r.value))),
    target: Math.max(6, ...rows.map((r) => width(r.target))),
  };
  const line = (m: string, v: string, t: string, s: string) => `  ${pad(m, w.metric)}  ${pad(v, w.value)}  ${pad(t, w.target)}  ${s}`;
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      out('');
      out(section);
      out(line('metric', 'value', 'target', 'status'));
    }
    out(line(r.metric, r.value, r.target, r.status));
  }
  const misses = rows.filter((r) => r.status === 'MISS').length;
  const passes = rows.filter((r) => r.status === 'PASS').length;
  out('');
  out(`${passes} PASS, ${misses} MISS, ${rows.length - passes - misses} INFO`);
}

/** Rows as a Markdown table (for BENCHMARKS.md). */
export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| Section | Metric | Value | Target | Status |', '|---|---|---|---|---|'];
  for (const r of sortBySection(rows)) lines.push(`| ${r.section} | ${r.metric} | ${r.value} | ${r.target} | ${r.status} |`);
  return lines.join('\n');
}

export function writeResults(file: string, data: unknown): void {
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}

/** Stable sort by the number a section starts with ("4. Throughput…"), so sections read in order. */
export function sortBySection(rows: readonly Row[]): Row[] {
  const n = (r: Row) => Number(/^(\d+)\./.exec(r.section)?.[1] ?? 99);
  return rows.map((r, i) => ({ r, i })).sort((a, b) => n(a.r) - n(b.r) || a.i - b.i).map(({ r }) => r);
}

/** Display width: CJK and other wide characters count double. */
function width(text: string): number {
  let n = 0;
  for (const ch of text) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return n;
}

function pad(text: string, to: number): string {
  return text + ' '.repeat(Math.max(0, to - width(text)));
}
