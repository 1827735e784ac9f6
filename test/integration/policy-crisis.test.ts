import { afterEach, describe, expect, it } from 'vitest';
import { crisisReplyText, quietHoursText, quotaReachedText } from '../../src/chat/chat-texts.js';
import { startPolicyHarness, waitFor, type PolicyHarness } from '../helpers/policy-chat.js';

const open: PolicyHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.h.close()));
});

async function harness(env: Record<string, string> = {}): Promise<PolicyHarness> {
  const p = await startPolicyHarness({ COUNSELLOR_USERS: 'couns1,couns2', COUNSELLOR_CONTACT: '王老师，心理咨询室 A201', TEACHER_USERS: 'teach1', ...env });
  open.push(p);
  return p;
}

/** Direct messages the robot sent to counsellors (one-to-one batch send). */
function alerts(p: PolicyHarness) {
  return p.h.robot.replies.filter((r) => r.via === 'oto-send' && r.userIds?.includes('couns1'));
}

describe('crisis hand-off', () => {
  it('never asks the model, replies with care and contacts, and DMs every counsellor with who, where and when only', async () => {
    const p = await harness();
    const reply = await p.group('cidClass', 'stu7', '我真的不想活了', { senderNick: '李雷' });
    expect(reply?.text).toBe(`${crisisReplyText('王老师，心理咨询室 A201', true)}\n\n@stu7`);
    expect(reply?.text).toMatch(/12356/);
    expect(p.backend.asks).toHaveLength(0);
    await waitFor(() => alerts(p).length === 1, 5_000, 'the counsellor alert');
    const alert = alerts(p)[0]!;
    expect(alert.userIds).toEqual(['couns1', 'couns2']);
    expect(alert.text).toContain('李雷');
    expect(alert.text).toContain('stu7');
    expect(alert.text).toContain('Grade 10 Physics'); // the group's name
    expect(alert.text).toMatch(/2026-03-02 10:00/); // school time
    expect(alert.text).not.toContain('不想活');
    await waitFor(async () => (await p.audit()).length === 1, 5_000, 'the audit record');
    expect((await p.audit())[0]).toMatchObject({ outcome: 'crisis', role: 'student', conversation: 'group' });
  });

  it('alerts once per student per interval, still replying with care each time; English phrases too', async () => {
    const p = await harness();
    await p.dm('stu1', 'sometimes I want to kill myself');
    await p.dm('stu1', '我想自残');
    await p.dm('stu2', 'My dad hits me every night');
    expect(p.h.robot.repliesTo('dm-stu1').map((r) => r.text)).toEqual([crisisReplyText('王老师，心理咨询室 A201', true), crisisReplyText('王老师，心理咨询室 A201', true)]);
    await waitFor(() => alerts(p).length === 2, 5_000, 'two alerts');
    await new Promise((r) => setTimeout(r, 200));
    expect(alerts(p)).toHaveLength(2); // stu1 once, stu2 once
    expect(p.backend.asks).toHaveLength(0);
  });

  it('answers a teacher normally, and lets ordinary words through (diet, 想死你了)', async () => {
    const p = await harness();
    await p.dm('teach1', 'A student said he wants to kill himself; how do I respond?');
    await p.dm('teach1', '学生说不想活了，我该怎么办？');
    await p.dm('stu1', 'I want to diet before the sports day');
    await p.dm('stu1', '放假了，想死你们了');
    expect(p.backend.asks).toHaveLength(4);
    expect(alerts(p)).toHaveLength(0);
  });

  it('shares the text with CRISIS_SHARE_TEXT=true, and uses CRISIS_REPLY and CRISIS_WORDS_FILE phrases', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = `${mkdtempSync(`${tmpdir()}/crisis-`)}/words.txt`;
    writeFileSync(file, '不想上学了\n');
    const p = await harness({ CRISIS_SHARE_TEXT: 'true', CRISIS_REPLY: '我们在这里陪你。请拨打 12356。', CRISIS_WORDS_FILE: file });
    expect((await p.dm('stu1', '我真的不想上学了'))?.text).toBe('我们在这里陪你。请拨打 12356。');
    await waitFor(() => alerts(p).length === 1, 5_000, 'the alert');
    expect(alerts(p)[0]!.text).toContain('我真的不想上学了');
    expect(p.backend.asks).toHaveLength(0);
  });

  it('logs an error when counsellors cannot be reached, and still replies to the student', async () => {
    const p = await harness();
    p.h.server.inject({ method: 'POST', path: '/v1.0/robot/oToMessages/batchSend', times: 1, respond: { status: 500, body: { code: 'ServiceUnavailable', message: 'down' } } });
    expect((await p.dm('stu1', '活不下去了'))?.text).toContain('12356');
    await waitFor(() => p.h.logs.records().some((r) => r.level === 'error' && r.message === 'crisis alert could not be sent to the counsellors'), 5_000, 'the error log');

    p.h.server.inject({
      method: 'POST',
      path: '/v1.0/robot/oToMessages/batchSend',
      times: 1,
      respond: { status: 200, body: { processQueryKey: 'k', invalidStaffIdList: ['couns2'], flowControlledStaffIdList: [] } },
    });
    await p.dm('stu2', '我想自杀');
    await waitFor(
      () => p.h.logs.records().some((r) => r.level === 'error' && r.message === 'crisis alert did not reach every counsellor; check COUNSELLOR_USERS'),
      5_000,
      'the partial-delivery error log',
    );
    const line = p.h.logs.records().find((r) => String(r.message).startsWith('crisis alert did not reach'))!;
    expect(line.undelivered).toEqual(['couns2']);
    expect(p.h.logs.lines.join('\n')).not.toContain('我想自杀'); // the student's words never reach the log
  });

  it('reaches a person first: during quiet hours and past the daily quota', async () => {
    const quiet = await harness({ QUIET_HOURS: '00:00-23:59' });
    expect((await quiet.dm('stu1', 'a normal question'))?.text).toBe(quietHoursText('23:59'));
    expect((await quiet.dm('stu1', '我想自杀'))?.text).toBe(crisisReplyText('王老师，心理咨询室 A201', true));
    const quota = await harness({ STUDENT_DAILY_QUOTA: '1' });
    await quota.dm('stu1', 'first');
    expect((await quota.dm('stu1', 'second'))?.text).toBe(quotaReachedText(1));
    expect((await quota.dm('stu1', 'I want to die'))?.text).toBe(crisisReplyText('王老师，心理咨询室 A201', true));
    await waitFor(() => alerts(quiet).length === 1 && alerts(quota).length === 1, 5_000, 'both alerts');
    expect(quiet.backend.asks).toHaveLength(0);
    expect(quota.backend.questions).toEqual(['first']);
  });

  it('without counsellors, still never asks the model and does not promise that someone was told', async () => {
    const p = await startPolicyHarness({});
    open.push(p);
    const reply = await p.dm('stu1', '我想自杀');
    expect(reply?.text).toBe(crisisReplyText(undefined, false));
    expect(reply?.text).not.toContain('我们已经请学校的心理老师');
    expect(p.backend.asks).toHaveLength(0);
  });
});
