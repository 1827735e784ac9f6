import { describe, expect, it } from 'vitest';
import { parseTeacherCommand } from '../../src/policy/teacher-commands.js';

describe('parseTeacherCommand', () => {
  it('reads /exam and /quota with their arguments', () => {
    expect(parseTeacherCommand('/exam on')).toEqual({ kind: 'exam-on', minutes: 120 });
    expect(parseTeacherCommand(' ／EXAM  on 45 ')).toEqual({ kind: 'exam-on', minutes: 45 });
    expect(parseTeacherCommand('/exam off')).toEqual({ kind: 'exam-off' });
    expect(parseTeacherCommand('/quota stu42')).toEqual({ kind: 'quota-show', staffId: 'stu42' });
    expect(parseTeacherCommand('/quota stu42 +10')).toEqual({ kind: 'quota-grant', staffId: 'stu42', extra: 10 });
    expect(parseTeacherCommand('/quota stu42 ＋3')).toEqual({ kind: 'quota-grant', staffId: 'stu42', extra: 3 });
  });

  it('answers a malformed command with its usage, and leaves other text alone', () => {
    for (const bad of ['/exam', '/exam maybe', '/exam on 0', '/exam on 99999', '/quota', '/quota a +0', '/quota a -3', '/quota a b c']) {
      expect(parseTeacherCommand(bad)).toEqual({ kind: 'usage' });
    }
    for (const text of ['what is an exam?', '/examine this', '/quotas', '/new', 'quota stu42 +1']) {
      expect(parseTeacherCommand(text)).toBeUndefined();
    }
  });
});
