import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CHAT_TEXTS,
  examInProgressText,
  examStartedText,
  quietHoursText,
  quotaGrantedText,
  quotaReachedText,
  quotaStatusText,
} from '../../src/chat/chat-texts.js';
import { parseRobotMessage } from '../../src/transports/dingtalk-stream/robot-message.js';
import { withLabel } from '../helpers/ai-label.js';
import { startPolicyHarness, waitFor, type PolicyHarness } from '../helpers/policy-chat.js';

const open: PolicyHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.h.close()));
});

async function harness(env: Record<string, string> = {}, start?: number): Promise<PolicyHarness> {
  const p = await startPolicyHarness(env, start);
  open.push(p);
  return p;
}

const at = (iso: string) => Date.parse(iso);
/** 10:00 on 2 March 2026 in Shanghai. */
const MORNING = at('2026-03-02T02:00:00Z');

describe('roles and prompts', () => {
  it('sends the student prompt for students and the teacher prompt for teachers (listed or admins), with the role', async () => {
    const p = await harness({ TEACHER_USERS: 'teach1', TEACHERS_FROM_ADMINS: 'true', STUDENT_PROMPT: 'STUDENT PROMPT', TEACHER_PROMPT: 'TEACHER PROMPT' });
    await p.dm('stu1', 'student question');
    await p.dm('teach1', 'teacher question');
    await p.dm('adm1', 'admin question', { isAdmin: true });
    await p.group('cidG', 'stu2', 'group question');
    expect(p.backend.asks.map((a) => [a.text, a.systemPrompt, a.role])).toEqual([
      ['student question', 'STUDENT PROMPT', 'student'],
      ['teacher question', 'TEACHER PROMPT', 'teacher'],
      ['admin question', 'TEACHER PROMPT', 'teacher'],
      ['group question', 'STUDENT PROMPT', 'student'],
    ]);
    // The backend sees pseudonyms only: never a staff id.
    for (const ask of p.backend.asks) {
      expect(ask.user).toMatch(/^u_[0-9a-f]{32}$/);
      expect(ask.user).not.toMatch(/stu|teach|adm/);
    }
  });

  it('shows teachers their commands in /help, and students only the usual help', async () => {
    const p = await harness({ TEACHER_USERS: 'teach1' });
    expect((await p.dm('teach1', '/help'))?.text).toBe(`${CHAT_TEXTS.help}\n\n${CHAT_TEXTS.teacherHelp}`);
    expect((await p.dm('stu1', '帮助'))?.text).toBe(CHAT_TEXTS.help);
  });

  it('treats an admin as a student unless TEACHERS_FROM_ADMINS=true', async () => {
    const p = await harness({ STUDENT_PROMPT: 'S', TEACHER_PROMPT: 'T' });
    await p.dm('adm1', 'q', { isAdmin: true });
    expect(p.backend.asks[0]).toMatchObject({ systemPrompt: 'S', role: 'student' });
  });
});

describe('daily quota', () => {
  it('stops at exactly N, says so once with the reset time, survives a restart and resets at local midnight', async () => {
    const p = await harness({ STUDENT_DAILY_QUOTA: '3', TEACHER_USERS: 'teach1' }, MORNING);
    for (const q of ['q1', 'q2', 'q3']) expect((await p.dm('stu1', q))?.text).toBe(withLabel(`answer ${q.slice(1)}: ${q}`));
    expect((await p.dm('stu1', 'q4'))?.text).toBe(quotaReachedText(3));
    expect(await p.dm('stu1', 'q5')).toBeUndefined(); // told once; then quiet
    expect((await p.dm('stu1', '/help'))?.text).toBe(CHAT_TEXTS.help); // commands never count, never refused
    expect(p.backend.questions).toEqual(['q1', 'q2', 'q3']);

    await p.h.restart();
    expect(await p.dm('stu1', 'q6')).toBeUndefined();
    expect(p.backend.questions).toHaveLength(3);

    // 23:59 local is still the same day; 00:00 local (16:00 UTC) is the next.
    p.clock.now = at('2026-03-02T15:59:00Z');
    expect(await p.dm('stu1', 'q7')).toBeUndefined();
    p.clock.now = at('2026-03-02T16:00:00Z');
    expect((await p.dm('stu1', 'q8'))?.text).toBe(withLabel('answer 4: q8'));
    await waitFor(async () => (await p.audit()).length === 8, 5_000, '8 audit records');
    const outcomes = (await p.audit()).map((r) => r.outcome);
    expect(outcomes).toEqual(['answered', 'answered', 'answered', 'quota', 'quota', 'quota', 'quota', 'answered']);
  });

  it('lets a teacher grant more today and see the count in a DM; teachers have no quota', async () => {
    const p = await harness({ STUDENT_DAILY_QUOTA: '1', TEACHER_USERS: 'teach1' }, MORNING);
    await p.dm('stu1', 'q1');
    expect((await p.dm('stu1', 'q2'))?.text).toBe(quotaReachedText(1));
    expect((await p.dm('teach1', '/quota stu1'))?.text).toBe(quotaStatusText('stu1', 1, 1, 0));
    expect((await p.dm('teach1', '/quota stu1 +2'))?.text).toBe(quotaGrantedText('stu1', 2));
    expect((await p.dm('stu1', 'q3'))?.text).toBe(withLabel('answer 2: q3'));
    expect((await p.dm('stu1', 'q4'))?.text).toBe(withLabel('answer 3: q4'));
    expect(await p.dm('stu1', 'q5')).toBeUndefined();
    expect((await p.dm('teach1', '/quota stu1'))?.text).toBe(quotaStatusText('stu1', 3, 1, 2));
    // The grant is for today only.
    p.clock.now = MORNING + 24 * 3600_000;
    expect((await p.dm('teach1', '/quota stu1'))?.text).toBe(quotaStatusText('stu1', 0, 1, 0));
    for (const q of ['t1', 't2', 't3']) expect((await p.dm('teach1', q))?.text).toContain(q);
    // Only teachers, and only in a DM.
    expect((await p.dm('stu1', '/quota stu1 +5'))?.text).toBe(CHAT_TEXTS.teachersOnly);
    expect((await p.group('cidG', 'teach1', '/quota stu1'))?.text).toContain(CHAT_TEXTS.quotaInDirectChat);
  });
});

describe('quiet hours', () => {
  it('tells a student once per quiet period that the bot rests, serves teachers, and answers again after', async () => {
    const p = await harness({ QUIET_HOURS: '22:30-06:30', TEACHER_USERS: 'teach1' }, at('2026-03-02T15:00:00Z')); // 23:00 local
    expect((await p.dm('stu1', 'late question'))?.text).toBe(quietHoursText('06:30'));
    p.clock.now = at('2026-03-02T18:00:00Z'); // 02:00 local, same period
    expect(await p.dm('stu1', 'still awake')).toBeUndefined();
    expect((await p.group('cidG', 'stu2', 'me too'))?.text).toContain(quietHoursText('06:30'));
    expect((await p.dm('teach1', 'grading'))?.text).toBe(withLabel('answer 1: grading'));
    p.clock.now = at('2026-03-02T22:31:00Z'); // 06:31 local
    expect((await p.dm('stu1', 'good morning'))?.text).toBe(withLabel('answer 1: good morning'));
    p.clock.now = at('2026-03-03T15:00:00Z'); // the next night
    expect((await p.dm('stu1', 'again'))?.text).toBe(quietHoursText('06:30'));
    expect(p.backend.questions).toEqual(['grading', 'good morning']);
  });
});

describe('exam mode', () => {
  it('answers students of the group only with a notice, once per student per exam, persisted, ending by itself', async () => {
    const p = await harness({ TEACHER_USERS: 'teach1' }, MORNING);
    expect((await p.group('cidExam', 'teach1', '/exam on 30'))?.text).toContain(examStartedText('10:30'));
    const notice = examInProgressText('10:30');
    expect((await p.group('cidExam', 'stu1', 'answer to Q3?'))?.text).toBe(`${notice}\n\n@stu1`);
    expect(await p.group('cidExam', 'stu1', 'please')).toBeUndefined();
    expect((await p.group('cidExam', 'stu2', 'hint?'))?.text).toBe(`${notice}\n\n@stu2`);
    expect((await p.group('cidExam', 'teach1', 'time left?'))?.text).toContain('answer 1: time left?');
    expect((await p.group('cidOther', 'stu1', 'other class'))?.text).toContain('answer 1: other class');
    expect((await p.dm('stu1', 'in a DM'))?.text).toContain('answer 1: in a DM');

    await p.h.restart();
    expect(await p.group('cidExam', 'stu2', 'after restart')).toBeUndefined();
    expect((await p.group('cidExam', 'stu3', 'new student'))?.text).toBe(`${notice}\n\n@stu3`);

    p.clock.now = MORNING + 31 * 60_000;
    expect((await p.group('cidExam', 'stu1', 'after the exam'))?.text).toContain('answer 1: after the exam');
    expect(p.backend.questions).toEqual(['time left?', 'other class', 'in a DM', 'after the exam']);
  });

  it('starts a new exam with fresh notices, ends it on /exam off, and refuses students and DMs', async () => {
    const p = await harness({ TEACHER_USERS: 'teach1' }, MORNING);
    await p.group('cidExam', 'teach1', '/exam on');
    expect((await p.group('cidExam', 'stu1', 'q'))?.text).toContain(examInProgressText('12:00'));
    await p.group('cidExam', 'teach1', '/exam on 10');
    expect((await p.group('cidExam', 'stu1', 'q'))?.text).toContain(examInProgressText('10:10'));
    expect((await p.group('cidExam', 'teach1', '/exam off'))?.text).toContain(CHAT_TEXTS.examEnded);
    expect((await p.group('cidExam', 'stu1', 'free again'))?.text).toContain('answer 1: free again');
    expect((await p.group('cidExam', 'teach1', '/exam off'))?.text).toContain(CHAT_TEXTS.examNotRunning);
    expect((await p.group('cidExam', 'stu1', '/exam on'))?.text).toContain(CHAT_TEXTS.teachersOnly);
    expect((await p.dm('teach1', '/exam on'))?.text).toBe(CHAT_TEXTS.examInGroup);
    expect((await p.group('cidExam', 'teach1', '/exam sometime'))?.text).toContain(CHAT_TEXTS.commandUsage);
    await waitFor(async () => (await p.audit()).length === 3, 5_000, 'audit of the three student questions');
    expect((await p.audit()).map((r) => r.outcome)).toEqual(['exam', 'exam', 'answered']);
  });
});

describe('labels', () => {
  it('ends every answer with AI_LABEL, but not the bot’s own texts', async () => {
    const p = await harness({ AI_LABEL: '【本回答由人工智能生成】' });
    expect((await p.dm('stu1', 'q'))?.text).toBe('answer 1: q\n\n【本回答由人工智能生成】');
    expect((await p.dm('stu1', '/new'))?.text).toBe(CHAT_TEXTS.newConversation);
  });
});

describe('personal data', () => {
  it('masks ID numbers, phones and emails before the backend, and says so once per conversation', async () => {
    const p = await harness();
    const reply = await p.dm('stu1', '我的身份证是11010519491231002X，电话 138 1234 5678，邮箱 li@school.cn，帮我填表');
    expect(p.backend.questions[0]).toBe('我的身份证是[身份证号已隐去]，电话 [手机号已隐去]，邮箱 [邮箱已隐去]，帮我填表');
    expect(reply?.text.startsWith(CHAT_TEXTS.personalDataRemoved)).toBe(true);
    expect(reply?.text.endsWith(withLabel('').trimStart())).toBe(true);
    const second = await p.dm('stu1', '再看看 13912345678');
    expect(p.backend.questions[1]).toBe('再看看 [手机号已隐去]');
    expect(second?.text).not.toContain(CHAT_TEXTS.personalDataRemoved);
    const other = await p.dm('stu2', 'mail me at a@b.io');
    expect(other?.text).toContain(CHAT_TEXTS.personalDataRemoved);
    expect(JSON.stringify(p.backend.asks)).not.toMatch(/11010519491231002X|13812345678|1381234|a@b\.io/);
  });
});

describe('blocked words', () => {
  function wordsFile(lines: string[]): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'words-')), 'blocked.txt');
    writeFileSync(file, lines.join('\n'));
    return file;
  }

  it('refuses a question with a blocked term without asking the model', async () => {
    const p = await harness({ BLOCKED_WORDS_FILE: wordsFile(['# school list', '禁词甲', 'bad thing']) });
    expect((await p.dm('stu1', '请告诉我禁词甲是什么'))?.text).toBe(CHAT_TEXTS.refused);
    expect((await p.dm('stu2', 'tell me a BAD  thing'))?.text).toBe(CHAT_TEXTS.refused);
    // A refusal is said once per sender and conversation per CHAT_REFUSAL_NOTICE_SECONDS, then recorded silently.
    expect(await p.dm('stu1', 'tell me a BAD  thing')).toBeUndefined();
    expect((await p.dm('stu1', 'tell me bad things'))?.text).toBe(withLabel('answer 1: tell me bad things'));
    expect(p.backend.questions).toEqual(['tell me bad things']);
  });

  it('refuses an answer with a blocked term and keeps the turn out of the history', async () => {
    const p = await harness({ BLOCKED_WORDS_FILE: wordsFile(['禁词乙']) });
    p.backend.answer = (text, history) => (text === 'trigger' ? `好的：禁词乙。` : `answer ${history.length + 1}: ${text}`);
    await p.dm('stu1', 'first');
    expect((await p.dm('stu1', 'trigger'))?.text).toBe(CHAT_TEXTS.refused);
    expect((await p.dm('stu1', 'third'))?.text).toBe(withLabel('answer 2: third'));
    expect(p.backend.asks[2]!.history.map((t) => t.q)).toEqual(['first']);
    await waitFor(async () => (await p.audit()).length === 3, 5_000, 'three audit records');
    expect((await p.audit()).map((r) => r.outcome)).toEqual(['answered', 'blocked', 'answered']);
  });
});

describe('audit trail (chat)', () => {
  it('records each question once with pseudonymous user, role, conversation, group, outcome and tokens, and no text', async () => {
    const p = await harness({ TEACHER_USERS: 'teach1', USER_RATE_LIMIT: '3/minute' });
    await p.group('cidAudit', 'stu1', 'private words one');
    await p.dm('teach1', 'private words two');
    await p.dm('stu1', '/help'); // a command: not a question
    for (const n of [1, 2, 3]) await p.dm('stu9', `flood ${n}`);
    expect((await p.dm('stu9', 'flood 4'))?.text).toBe(CHAT_TEXTS.slowDown);
    await waitFor(async () => (await p.audit()).length === 6, 5_000, 'six audit records');
    const rows = await p.audit();
    expect(rows.map((r) => [r.role, r.conversation, r.outcome])).toEqual([
      ['student', 'group', 'answered'],
      ['teacher', 'dm', 'answered'],
      ['student', 'dm', 'answered'],
      ['student', 'dm', 'answered'],
      ['student', 'dm', 'answered'],
      ['student', 'dm', 'limited'],
    ]);
    expect(rows[0]).toMatchObject({ transport: 'chat', groupId: 'cidAudit', groupName: 'Grade 10 Physics', backend: 'recording', promptTokens: 11, completionTokens: 7 });
    expect(rows[0]!.user).toMatch(/^u_[0-9a-f]{32}$/);
    expect(rows[2]!.user).toBe(rows[3]!.user); // one student, one pseudonym
    expect(JSON.stringify(rows)).not.toMatch(/private words|stu1|teach1|stu9/);
  });

  it('writes the audit record of a reply recorded before a crash once it is delivered after the restart', async () => {
    const p = await harness();
    const parsed = parseRobotMessage(JSON.stringify(p.h.robot.robotMessage({ conversationId: 'dm-stu1', staffId: 'stu1', text: 'asked before the crash' })), 'f1');
    if (!parsed.ok) throw new Error(parsed.reason);
    const { id } = parsed.message;
    await p.h.storage.ledger.admit({ id, admittedAt: Date.now(), payload: parsed.message });
    await p.h.storage.ledger.update(id, { reply: withLabel('recorded answer'), audit: { outcome: 'answered', startedAt: MORNING, usage: { promptTokens: 3 } } });
    await p.h.restart();
    await waitFor(() => p.h.robot.replies.length === 1, 5_000, 'the recovered reply');
    expect(p.h.robot.replies[0]!.text).toBe(withLabel('recorded answer'));
    expect(p.backend.asks).toHaveLength(0);
    await waitFor(async () => (await p.audit()).length === 1, 5_000, 'the audit record');
    expect((await p.audit())[0]).toMatchObject({ id: `chat:${id}`, outcome: 'answered', at: MORNING, promptTokens: 3 });
  });
});
