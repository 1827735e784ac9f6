import type { Bilingual, CheckResult } from '../health/check-result.js';

const MARK = { ok: '✓', failing: '✗', skipped: '–' } as const;

/** One check as the operator reads it: mark and title, then reason and fix in both languages. */
export function reportLines(title: Bilingual, result: CheckResult): string[] {
  const head = `${MARK[result.status]} ${title.zh} · ${title.en}`;
  const lines = [result.detail ? `${head} — ${result.detail}` : head];
  if (result.status === 'skipped' && result.reason) lines[0] += `: ${result.reason.zh} · ${result.reason.en}`;
  if (result.status === 'failing') {
    if (result.reason) lines.push(`    原因：${result.reason.zh}`, `    Problem: ${result.reason.en}`);
    if (result.fix) lines.push(`    修复：${result.fix.zh}`, `    Fix: ${result.fix.en}`);
  }
  return lines;
}

export function summaryLine(failed: number, blocked = 0): string {
  if (failed === 0 && blocked === 0) return '全部通过，可以 npm start · All checks passed: ready for npm start';
  const notRun = blocked > 0 ? { zh: `，${blocked} 项因此未检查`, en: `, ${blocked} not run because of it` } : { zh: '', en: '' };
  return (
    `${failed} 项未通过${notRun.zh}；请按上面的“修复”处理后再运行 npm run doctor · ` +
    `${failed} check(s) failed${notRun.en}: apply the fixes above and run npm run doctor again`
  );
}
