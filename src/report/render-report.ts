import type { Tally, UsageReport } from './usage-report.js';

/** The report as text for a terminal, Chinese first with English. */
export function renderReportText(r: UsageReport): string {
  const lines: string[] = [];
  const pct = (t: Tally) => (t.questions === 0 ? '—' : `${Math.round((100 * t.answered) / t.questions)}%`);
  lines.push(`使用报告 · Usage report  ${r.from} – ${r.to}（${r.timeZone}）`);
  lines.push('');
  lines.push(`提问 Questions ${r.total.questions}，已回答 answered ${r.total.answered}（${pct(r.total)}）`);
  lines.push(`内容拦截 Blocked ${r.blocked}，危机转介 Crisis hand-offs ${r.crisis}`);
  lines.push(`Tokens：输入 prompt ${r.total.promptTokens}，输出 completion ${r.total.completionTokens}`);
  lines.push('');
  lines.push('按天 By day');
  lines.push(table(['日期 date', '提问 questions', '回答 answered', '提问人数 askers', '平均耗时 avg ms'], r.byDay.map((d) => [d.date, d.tally.questions, d.tally.answered, d.users, avg(d.tally)])));
  lines.push('');
  lines.push('按角色 By role');
  lines.push(table(['角色 role', '提问 questions', '回答 answered'], r.byRole.map((x) => [roleName(x.role), x.tally.questions, x.tally.answered])));
  lines.push('');
  lines.push('按群 By group');
  lines.push(r.byGroup.length === 0 ? '  （无 none）' : table(['群 group', '提问 questions', '回答 answered'], r.byGroup.map((g) => [g.group, g.tally.questions, g.tally.answered])));
  lines.push('');
  lines.push('未回答的原因 Not answered, most frequent first');
  lines.push(r.notAnswered.length === 0 ? '  （无 none）' : table(['结果 outcome', '次数 count'], r.notAnswered.map((o) => [o.outcome, o.count])));
  return `${lines.join('\n')}\n`;
}

/** The report's rows as CSV (RFC 4180, UTF-8 with a BOM so spreadsheet programs read the Chinese). */
export function renderReportCsv(r: UsageReport): string {
  const header = ['date', 'role', 'conversation', 'group', 'outcome', 'questions', 'answered', 'prompt_tokens', 'completion_tokens', 'avg_latency_ms'];
  const body = r.rows.map((row) =>
    [row.date, row.role, row.conversation, row.group, row.outcome, row.questions, row.answered, row.promptTokens, row.completionTokens, avg(row)]
      .map(csvField)
      .join(','),
  );
  return `\uFEFF${[header.join(','), ...body].join('\r\n')}\r\n`;
}

function csvField(value: string | number): string {
  const text = String(value);
  // Quote what needs it, and defuse cells a spreadsheet would run as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function avg(t: Tally): number {
  return t.questions === 0 ? 0 : Math.round(t.latencyMsTotal / t.questions);
}

function roleName(role: string): string {
  return role === 'teacher' ? '老师 teacher' : role === 'student' ? '学生 student' : role;
}

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  return cells.map((r) => `  ${r.map((c, i) => c + ' '.repeat(widths[i]! - width(c))).join('  ')}`.trimEnd()).join('\n');
}

/** Display width: CJK and full-width characters count double. */
function width(text: string): number {
  let n = 0;
  for (const ch of text) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return n;
}
