import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DEFAULT_AI_LABEL } from '../../src/config/policy-env.js';
import { DEFAULT_STUDENT_PROMPT, DEFAULT_TEACHER_PROMPT } from '../../src/policy/default-role-prompts.js';
import { configProblems } from '../helpers/config-problems.js';

const BASE = { DING_APP_KEY: 'key', DING_APP_SECRET: 'secret', ASSISTANT_BACKEND: 'dingtalk-assistant', AI_ASSISTANT_ID: 'a'.repeat(32) };


const problemsOf = (env: Record<string, string>, files: Record<string, string> = {}) => configProblems(env, { readFile: (p) => read(files, p) });

function read(files: Record<string, string>, path: string): string {
  const content = files[path];
  if (content === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return content;
}

describe('policy configuration', () => {
  it('applies the documented defaults', () => {
    const { policy } = loadConfig(BASE);
    expect(policy.roles).toEqual({ teachers: [], teachersFromAdmins: false, httpRole: 'student' });
    expect(policy.prompts).toEqual({ student: DEFAULT_STUDENT_PROMPT, teacher: DEFAULT_TEACHER_PROMPT });
    expect(policy.fairUse).toEqual({ studentDailyQuota: 50, timeZone: 'Asia/Shanghai', quietHours: undefined });
    expect(policy.aiLabel).toBe(DEFAULT_AI_LABEL);
    expect(policy.crisis).toMatchObject({ extraPhrases: [], counsellors: [], shareText: false });
    expect(policy.blockedWords).toEqual([]);
    expect(policy.retention).toEqual({ auditDays: 180, transcriptDays: 0 });
    expect(DEFAULT_STUDENT_PROMPT).toMatch(/不要直接给出完整答案/);
  });

  it('reads role prompts given inline, from @files, or falls back to SYSTEM_PROMPT', () => {
    const files = { 'prompts/student.md': '  只给提示。\n' };
    const c = loadConfig({ ...BASE, STUDENT_PROMPT: '@prompts/student.md', TEACHER_PROMPT: 'Full help.' }, { readFile: (p) => read(files, p) });
    expect(c.policy.prompts).toEqual({ student: '只给提示。', teacher: 'Full help.' });
    const shared = loadConfig({ ...BASE, SYSTEM_PROMPT: 'One prompt for all.', TEACHER_PROMPT: 'Teachers.' });
    expect(shared.policy.prompts).toEqual({ student: 'One prompt for all.', teacher: 'Teachers.' });
  });

  it('reports a prompt or word file that cannot be read, naming the variable, with the other problems', () => {
    const problems = problemsOf({
      ...BASE,
      STUDENT_PROMPT: '@missing.md',
      CRISIS_WORDS_FILE: 'nope.txt',
      BLOCKED_WORDS_FILE: 'empty-prompt.txt',
      TEACHER_PROMPT: '@empty.md',
      STUDENT_DAILY_QUOTA: '-1',
    }, { 'empty.md': '  ', 'empty-prompt.txt': '' });
    expect(problems).toMatch(/STUDENT_PROMPT names a file that cannot be read \(missing\.md\)/);
    expect(problems).toMatch(/CRISIS_WORDS_FILE names a file that cannot be read \(nope\.txt\)/);
    expect(problems).toMatch(/TEACHER_PROMPT names an empty file/);
    expect(problems).toMatch(/STUDENT_DAILY_QUOTA must be at least 0/);
    expect(problems).not.toContain('BLOCKED_WORDS_FILE');
    // Without a reader (a pure call), naming a file is a problem too, never a silent default.
    expect(() => loadConfig({ ...BASE, TEACHER_PROMPT: '@t.md' })).toThrow(/TEACHER_PROMPT names a file that cannot be read/);
  });

  it('reads word files one term a line, skipping blank lines and # comments', () => {
    const files = { 'crisis.txt': '# 学校补充\n\n想消失\r\n  不想上学了 \n', 'blocked.txt': '\uFEFF词一\n#注释\n词二\n' };
    const c = loadConfig({ ...BASE, CRISIS_WORDS_FILE: 'crisis.txt', BLOCKED_WORDS_FILE: 'blocked.txt' }, { readFile: (p) => read(files, p) });
    expect(c.policy.crisis.extraPhrases).toEqual(['想消失', '不想上学了']);
    expect(c.policy.blockedWords).toEqual(['词一', '词二']);
  });

  it('lets AI_LABEL be reworded but not removed or emptied of its meaning', () => {
    expect(loadConfig({ ...BASE, AI_LABEL: '' }).policy.aiLabel).toBe(DEFAULT_AI_LABEL);
    expect(loadConfig({ ...BASE, AI_LABEL: '   ' }).policy.aiLabel).toBe(DEFAULT_AI_LABEL);
    expect(loadConfig({ ...BASE, AI_LABEL: '— 本回答由人工智能生成 —' }).policy.aiLabel).toBe('— 本回答由人工智能生成 —');
    expect(loadConfig({ ...BASE, AI_LABEL: '[AI-generated]' }).policy.aiLabel).toBe('[AI-generated]');
    for (const bad of ['.', 'AI', 'powered by magic']) {
      expect(problemsOf({ ...BASE, AI_LABEL: bad })).toMatch(/AI_LABEL must still say the answer is AI-generated/);
    }
  });

  it('parses QUIET_HOURS and SCHOOL_TIMEZONE, and refuses bad ones', () => {
    const c = loadConfig({ ...BASE, QUIET_HOURS: '22:30-06:30', SCHOOL_TIMEZONE: 'Europe/London' });
    expect(c.policy.fairUse.quietHours).toEqual({ start: 22 * 60 + 30, end: 6 * 60 + 30 });
    expect(c.policy.fairUse.timeZone).toBe('Europe/London');
    const problems = problemsOf({ ...BASE, QUIET_HOURS: '10pm-6am', SCHOOL_TIMEZONE: 'Mars/Olympus' });
    expect(problems).toMatch(/QUIET_HOURS must look like 22:30-06:30/);
    expect(problems).toMatch(/SCHOOL_TIMEZONE must be an IANA time zone/);
    expect(problemsOf({ ...BASE, QUIET_HOURS: '07:00-07:00' })).toMatch(/QUIET_HOURS must name two different times/);
    expect(problemsOf({ ...BASE, QUIET_HOURS: '24:00-06:00' })).toMatch(/QUIET_HOURS must look like/);
  });

  it('needs the DingTalk app to reach counsellors, even for an HTTP-only service', () => {
    const http = { ASSISTANT_BACKEND: 'dify', DIFY_BASE_URL: 'https://dify.school/v1', DIFY_API_KEY: 'app-1', STREAM_ENABLED: 'false' };
    expect(problemsOf({ ...http, COUNSELLOR_USERS: 'c1' })).toMatch(/DING_APP_KEY is required when COUNSELLOR_USERS is set/);
    const c = loadConfig({ ...http, COUNSELLOR_USERS: 'c1, c2', DING_APP_KEY: 'k', DING_APP_SECRET: 's', TEACHER_USERS: 't1,t2', ASK_API_ROLE: 'Teacher' });
    expect(c.policy.crisis.counsellors).toEqual(['c1', 'c2']);
    expect(c.policy.roles).toMatchObject({ teachers: ['t1', 't2'], httpRole: 'teacher' });
  });
});
