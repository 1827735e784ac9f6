import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';

const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function open(file: string): Promise<Storage> {
  const storage = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });
  opened.push(storage);
  return storage;
}

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'policy-store-')), 's.sqlite');

describe('SQLite policy stores', () => {
  it('counts a quota exactly under concurrency, persists it, and applies grants and give-backs', async () => {
    const file = tempFile();
    const a = await open(file);
    const takes = await Promise.all(Array.from({ length: 20 }, () => a.policy.quotas.take('u_1', '2026-03-02', 5)));
    expect(takes.filter(Boolean)).toHaveLength(5);
    expect(takes.filter(Boolean).map((t) => t!.used).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    await a.policy.quotas.giveBack('u_1', '2026-03-02');
    expect(await a.policy.quotas.usage('u_1', '2026-03-02')).toEqual({ used: 4, granted: 0 });
    await a.close();

    const b = await open(file);
    expect(await b.policy.quotas.usage('u_1', '2026-03-02')).toEqual({ used: 4, granted: 0 });
    expect(await b.policy.quotas.take('u_1', '2026-03-02', 5)).toEqual({ used: 5, granted: 0 });
    expect(await b.policy.quotas.take('u_1', '2026-03-02', 5)).toBeUndefined();
    expect(await b.policy.quotas.grant('u_1', '2026-03-02', 2)).toEqual({ used: 5, granted: 2 });
    expect(await b.policy.quotas.take('u_1', '2026-03-02', 5)).toEqual({ used: 6, granted: 2 });
    expect(await b.policy.quotas.take('u_1', '2026-03-03', 5)).toEqual({ used: 1, granted: 0 }); // a new day
    expect(await b.policy.quotas.take('u_2', '2026-03-03', 0)).toBeUndefined(); // a limit of 0 means the caller must not count
    await b.policy.quotas.flush();
    expect(await b.policy.quotas.deleteBefore('2026-03-03')).toBe(1);
  });

  it('lets one of many concurrent claims of a notice win, and the next after it expires', async () => {
    const s = await open(tempFile());
    const claims = await Promise.all(Array.from({ length: 10 }, () => s.policy.notices.claim('quiet:u_1:p1', 2_000, 1_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await s.policy.notices.claim('quiet:u_1:p1', 3_000, 1_999)).toBe(false);
    expect(await s.policy.notices.claim('quiet:u_1:p1', 3_000, 2_000)).toBe(true);
    expect(await s.policy.notices.deleteExpired(3_000)).toBe(1);
  });

  it('keeps exams across a restart, ends them on request or at their time', async () => {
    const file = tempFile();
    const a = await open(file);
    await a.policy.exams.start({ groupId: 'g1', id: 'e1', startedAt: 0, endsAt: 10_000 });
    await a.policy.exams.start({ groupId: 'g2', id: 'e2', startedAt: 0, endsAt: 5_000 });
    await a.close();
    const b = await open(file);
    expect(await b.policy.exams.active('g1', 9_999)).toMatchObject({ id: 'e1' });
    expect(await b.policy.exams.active('g1', 10_000)).toBeUndefined();
    expect(await b.policy.exams.end('g2', 1_000)).toBe(true);
    expect(await b.policy.exams.active('g2', 1_000)).toBeUndefined();
    expect(await b.policy.exams.end('g2', 1_000)).toBe(false);
    expect(await b.policy.exams.deleteEnded(10_000)).toBe(1);
  });

  it('appends audit records once per id and reads them back in order across pages', async () => {
    const s = await open(tempFile());
    const record = (i: number): AuditRecord => ({
      id: `chat:m${i}`,
      at: 1_000 + Math.floor(i / 3), // several records share a millisecond
      transport: 'chat',
      user: 'u_1',
      role: 'student',
      conversation: 'group',
      groupId: 'g',
      groupName: '高一(3)班',
      backend: 'openai',
      outcome: 'answered',
      latencyMs: 12.4,
    });
    for (let i = 0; i < 4_500; i++) await s.policy.audit.append(record(i));
    await s.policy.audit.append({ ...record(7), outcome: 'failed' }); // a replay: ignored
    const ids: string[] = [];
    for await (const r of s.policy.audit.between(1_000, 2_500)) ids.push(r.id);
    expect(ids).toHaveLength(4_500);
    expect(new Set(ids).size).toBe(4_500);
    expect(ids.slice(0, 3)).toEqual(['chat:m0', 'chat:m1', 'chat:m2']);
    const first = (await s.policy.audit.between(1_002, 1_003)[Symbol.asyncIterator]().next()).value as AuditRecord;
    expect(first).toEqual({ ...record(6), latencyMs: 12 });
    expect(await s.policy.audit.deleteBefore(1_500)).toBe(1_500);
  });
});
