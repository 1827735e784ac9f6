import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_TEXTS, crisisReplyText } from '../../src/chat/chat-texts.js';
import { AssistantError } from '../../src/errors.js';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { withLabel } from '../helpers/ai-label.js';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';
import { RecordingBackend } from '../helpers/recording-backend.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';

const open: Array<HttpHarness | StreamHarness> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function http(env: Record<string, string> = {}, backend = new RecordingBackend()) {
  const h = await startHttpHarness(env, backend);
  open.push(h);
  return { h, backend };
}

async function auditOf(h: { storage: HttpHarness['storage'] }, n: number): Promise<AuditRecord[]> {
  const read = async () => {
    const rows: AuditRecord[] = [];
    for await (const r of h.storage.policy.audit.between(0, Number.MAX_SAFE_INTEGER)) rows.push(r);
    return rows;
  };
  await waitFor(async () => (await read()).length >= n, 5_000, `${n} audit records`);
  return read();
}

function blockedFile(...terms: string[]): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'blocked-')), 'words.txt');
  writeFileSync(file, terms.join('\n'));
  return file;
}

describe('/assistant/ask under school policy', () => {
  it('labels the answer, says aiGenerated, and asks with the student prompt (or the teacher one with ASK_API_ROLE)', async () => {
    const { h, backend } = await http({ STUDENT_PROMPT: 'S', TEACHER_PROMPT: 'T', AI_LABEL: '[AI生成]' });
    const res = await h.ask({ question: 'What is DNA?' });
    expect(res.body).toMatchObject({ code: 0, answer: 'answer 1: What is DNA?\n\n[AI生成]', aiGenerated: true });
    expect(backend.asks[0]).toMatchObject({ systemPrompt: 'S', role: 'student' });

    const teacher = await http({ STUDENT_PROMPT: 'S', TEACHER_PROMPT: 'T', ASK_API_ROLE: 'teacher' });
    await teacher.h.ask({ question: 'Plan a lesson' });
    expect(teacher.backend.asks[0]).toMatchObject({ systemPrompt: 'T', role: 'teacher' });
  });

  it('answers a crisis message with the caring reply, never asking the model (aiGenerated false)', async () => {
    const { h, backend } = await http();
    const res = await h.ask({ question: 'I want to kill myself' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: 0, answer: crisisReplyText(undefined, false), aiGenerated: false });
    expect(backend.asks).toHaveLength(0);
    expect((await auditOf(h, 1))[0]).toMatchObject({ transport: 'http', conversation: 'http', outcome: 'crisis', role: 'student' });
  });

  it('refuses a blocked question with 422 without asking, and a blocked answer with 422 without keeping the turn', async () => {
    const { h, backend } = await http({ BLOCKED_WORDS_FILE: blockedFile('禁词丁') });
    const q = await h.ask({ question: '禁词丁 是什么' });
    expect(q.status).toBe(422);
    expect(q.body).toMatchObject({ code: 42201 });
    expect(backend.asks).toHaveLength(0);

    backend.answer = (text, history) => (text === 'trigger' ? '这是禁词丁' : `answer ${history.length + 1}: ${text}`);
    const first = await h.ask({ question: 'first' });
    const sessionId = first.body.sessionId as string;
    expect((await h.ask({ question: 'trigger', sessionId })).status).toBe(422);
    const third = await h.ask({ question: 'third', sessionId });
    expect(third.body.answer).toBe(withLabel('answer 2: third'));
    expect(backend.asks.at(-1)!.history.map((t) => t.q)).toEqual(['first']);
    expect((await auditOf(h, 4)).map((r) => r.outcome)).toEqual(['blocked', 'answered', 'blocked', 'answered']);
  });

  it('starts over (and deletes upstream) when a backend keeping history upstream gave a blocked answer', async () => {
    const upstream = new RecordingBackend({ upstreamHistory: true });
    upstream.answer = (text, history) => (text === 'trigger' ? '这是禁词丁' : `answer ${history.length + 1}: ${text}`);
    const { h } = await http({ BLOCKED_WORDS_FILE: blockedFile('禁词丁') }, upstream);
    const first = await h.ask({ question: 'first' });
    const sessionId = first.body.sessionId as string;
    expect((await h.ask({ question: 'trigger', sessionId })).status).toBe(422);
    await waitFor(() => upstream.forgotten.length === 1, 5_000, 'the upstream conversation to be deleted');
    expect(upstream.forgotten[0]).toEqual({ history: [{ q: 'first', a: 'answer 1: first' }, { q: 'trigger', a: '这是禁词丁' }] });
    const next = await h.ask({ question: 'again', sessionId });
    expect(next.body.sessionId).not.toBe(sessionId); // the conversation started over
    expect(upstream.asks.at(-1)!.history).toEqual([]);
  });

  it('masks personal data before the backend and tells the caller once per session', async () => {
    const { h, backend } = await http();
    const first = await h.ask({ question: '我的手机是13812345678' });
    expect(backend.asks[0]!.text).toBe('我的手机是[手机号已隐去]');
    expect(first.body.answer.startsWith(CHAT_TEXTS.personalDataRemoved)).toBe(true);
    const second = await h.ask({ question: '还有 13912345678', sessionId: first.body.sessionId });
    expect(second.body.answer).not.toContain(CHAT_TEXTS.personalDataRemoved);
    expect(backend.asks[1]!.text).toBe('还有 [手机号已隐去]');
  });

  it('writes one audit record per question with its outcome, tokens and latency, and no text', async () => {
    const { h, backend } = await http();
    await h.ask({ question: 'secret question text one' });
    backend.failures.push(new AssistantError('failed', 'upstream broke'));
    expect((await h.ask({ question: 'secret question text two' })).status).toBe(502);
    backend.failures.push(new AssistantError('timeout', 'too slow'));
    expect((await h.ask({ question: 'secret question text three' })).status).toBe(504);
    const rows = await auditOf(h, 3);
    expect(rows.map((r) => r.outcome)).toEqual(['answered', 'failed', 'timeout']);
    expect(rows[0]).toMatchObject({ transport: 'http', role: 'student', conversation: 'http', backend: 'recording', promptTokens: 11, completionTokens: 7 });
    expect(rows[0]!.user).toMatch(/^u_[0-9a-f]{32}$/);
    expect(rows.every((r) => r.latencyMs >= 0 && r.id.startsWith('http:'))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain('secret question');
  });

  it('keeps transcripts (personal data masked) only with TRANSCRIPT_RETENTION_DAYS > 0', async () => {
    const transcripts = async (h: HttpHarness) => {
      const out = [];
      for await (const t of h.storage.policy.transcripts.between(0, Number.MAX_SAFE_INTEGER)) out.push(t);
      return out;
    };
    const none = await http();
    await none.h.ask({ question: 'q' });
    await auditOf(none.h, 1);
    expect(await transcripts(none.h)).toEqual([]);
    const review = await http({ TRANSCRIPT_RETENTION_DAYS: '7' });
    await review.h.ask({ question: 'mail a@b.io' });
    await auditOf(review.h, 1);
    expect(await transcripts(review.h)).toMatchObject([{ question: 'mail [邮箱已隐去]', answer: 'answer 1: mail [邮箱已隐去]', role: 'student', conversation: 'http' }]);
  });

  it('alerts counsellors about a crisis message from the web (anonymous), through the robot', async () => {
    const s = await startStreamHarness({ env: { COUNSELLOR_USERS: 'couns1', STREAM_ENABLED: 'false' }, backend: () => new RecordingBackend() });
    open.push(s);
    const res = await fetch(`${s.app.url}/assistant/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: '我想自杀' }),
    });
    expect((await res.json()) as object).toMatchObject({ aiGenerated: false });
    await waitFor(() => s.robot.replies.some((r) => r.via === 'oto-send'), 5_000, 'the counsellor alert');
    const alert = s.robot.replies.find((r) => r.via === 'oto-send')!;
    expect(alert.userIds).toEqual(['couns1']);
    expect(alert.text).toContain('网页问答');
    expect(alert.text).not.toContain('我想自杀');
  });
});
