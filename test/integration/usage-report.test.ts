import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReport } from '../../src/report/report-main.js';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { TEST_ENV } from '../helpers/http-harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** 2026-03-07 12:00 in Shanghai. */
const NOW = Date.parse('2026-03-07T04:00:00Z');
const at = (iso: string) => Date.parse(iso);

function record(id: string, iso: string, extra: Partial<AuditRecord>): AuditRecord {
  return {
    id,
    at: at(iso),
    transport: 'chat',
    user: `u_${'a'.repeat(31)}${id.length}`,
    role: 'student',
    conversation: 'dm',
    backend: 'openai',
    outcome: 'answered',
    latencyMs: 100,
    promptTokens: 10,
    completionTokens: 5,
    ...extra,
  };
}

async function database(records: AuditRecord[]): Promise<Record<string, string>> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'report-')), 's.sqlite');
  const storage = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });
  for (const r of records) await storage.policy.audit.append(r);
  await storage.close();
  return { ...TEST_ENV, SESSION_STORAGE: `sqlite://${file}` };
}

async function report(argv: string[], env: Record<string, string>) {
  let out = '';
  let err = '';
  const code = await runReport(argv, env, { out: (t) => (out += t), err: (t) => (err += t), now: () => NOW });
  return { code, out, err };
}

const RECORDS = [
  record('1', '2026-03-06T16:30:00Z', { conversation: 'group', groupId: 'cid1', groupName: '高一(3)班' }), // 03-07 00:30 local
  record('22', '2026-03-06T15:30:00Z', { conversation: 'group', groupId: 'cid1', groupName: '高一(3)班', outcome: 'quota' }), // 03-06 23:30 local
  record('333', '2026-03-06T02:00:00Z', { role: 'teacher', promptTokens: 100 }),
  record('4444', '2026-03-06T03:00:00Z', { outcome: 'blocked', promptTokens: undefined, completionTokens: undefined }),
  record('55555', '2026-03-06T03:10:00Z', { outcome: 'crisis', promptTokens: undefined, completionTokens: undefined }),
  record('666666', '2026-03-06T03:20:00Z', { outcome: 'timeout', transport: 'http', conversation: 'http' }),
  record('7777777', '2026-03-06T03:30:00Z', { outcome: 'quota', conversation: 'group', groupId: 'cid2' }),
  record('old', '2026-03-01T03:00:00Z', {}), // outside --days 2
];

describe('npm run report', () => {
  it('prints usage per day, role and group, blocked and crisis counts and the top outcomes, in the school time zone', async () => {
    const env = await database(RECORDS);
    const { code, out } = await report(['--days', '2'], env);
    expect(code).toBe(0);
    expect(out).toContain('2026-03-06 – 2026-03-07（Asia/Shanghai）');
    expect(out).toContain('提问 Questions 7，已回答 answered 2（29%）');
    expect(out).toContain('内容拦截 Blocked 1，危机转介 Crisis hand-offs 1');
    expect(out).toMatch(/2026-03-06\s+6\s+1\s+6\s+100/);
    expect(out).toMatch(/2026-03-07\s+1\s+1\s+1\s+100/);
    expect(out).toMatch(/老师 teacher\s+1\s+1/);
    expect(out).toMatch(/学生 student\s+6\s+1/);
    expect(out).toMatch(/高一\(3\)班\s+2\s+1/);
    expect(out).toMatch(/cid2\s+1\s+0/);
    expect(out).toMatch(/quota\s+2\n\s+blocked\s+1\n\s+crisis\s+1\n\s+timeout\s+1/);
    expect(out).not.toMatch(/u_a{10}/); // pseudonyms are counted, never listed
  });

  it('writes one CSV line per day, role, conversation, group and outcome', async () => {
    const env = await database(RECORDS);
    const { code, out } = await report(['--days=2', '--csv'], env);
    expect(code).toBe(0);
    const lines = out.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('date,role,conversation,group,outcome,questions,answered,prompt_tokens,completion_tokens,avg_latency_ms');
    expect(lines).toContain('2026-03-06,teacher,dm,,answered,1,1,100,5,100');
    expect(lines).toContain('2026-03-06,student,group,高一(3)班,quota,1,0,10,5,100');
    expect(lines).toContain('2026-03-07,student,group,高一(3)班,answered,1,1,10,5,100');
    expect(lines).toHaveLength(1 + 7);
    const all = await report(['--days', '30', '--csv'], env);
    expect(all.out.trimEnd().split('\r\n')).toHaveLength(1 + 8);
  });

  it('refuses bad arguments with exit code 2 and explains a missing database', async () => {
    const env = await database([]);
    expect((await report(['--days', 'seven'], env)).code).toBe(2);
    expect((await report(['--weeks', '1'], env)).err).toMatch(/Unknown argument --weeks/);
    const missing = await report([], { ...env, SESSION_STORAGE: `sqlite://${path.join(tmpdir(), 'no-such-dir', 'x.sqlite')}` });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/No database at/);
    expect((await report([], env)).out).toContain('提问 Questions 0');
  });

  it('runs as a script (the entry npm run report builds and starts)', async () => {
    const env = await database(RECORDS);
    const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const child = spawn(process.execPath, ['--import', loader, path.join(ROOT, 'src/report/report-main.ts'), '--days', '3650', '--csv'], {
      cwd: mkdtempSync(path.join(tmpdir(), 'report-cwd-')),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toContain('date,role,conversation');
    expect(out.trimEnd().split('\r\n')).toHaveLength(1 + 8);
  }, 20_000);
});
