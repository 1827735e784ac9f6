import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSharedRedis } from '../helpers/shared-redis.js';

/**
 * School policy's records in Redis, shared by every instance: a daily quota is never exceeded
 * when two instances count at once, a notice is given once, an exam started through one
 * instance applies on the other, and the audit trail is written once per question.
 */
const redis = useSharedRedis();
const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function open(prefix: string): Promise<Storage> {
  const storage = await openStorage({ url: redis.url, keyPrefix: prefix, leaseMs: 2_000, ledgerTtlMs: 60_000, logger: captureLogger().logger });
  opened.push(storage);
  return storage;
}

describe('Redis policy stores', () => {
  it('counts a quota exactly when two instances take at once, and applies grants, give-backs and the purge', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const takes = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).policy.quotas.take('u_1', '2026-03-02', 5)));
    expect(takes.filter(Boolean)).toHaveLength(5);
    expect(takes.filter(Boolean).map((t) => t!.used).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
    await a.policy.quotas.giveBack('u_1', '2026-03-02');
    expect(await b.policy.quotas.usage('u_1', '2026-03-02')).toEqual({ used: 4, granted: 0 });
    expect(await b.policy.quotas.take('u_1', '2026-03-02', 5)).toEqual({ used: 5, granted: 0 });
    expect(await a.policy.quotas.take('u_1', '2026-03-02', 5)).toBeUndefined();
    expect(await a.policy.quotas.grant('u_1', '2026-03-02', 2)).toEqual({ used: 5, granted: 2 });
    expect(await b.policy.quotas.take('u_1', '2026-03-02', 5)).toEqual({ used: 6, granted: 2 });
    expect(await b.policy.quotas.take('u_1', '2026-03-03', 5)).toEqual({ used: 1, granted: 0 }); // a new day
    expect(await b.policy.quotas.take('u_2', '2026-03-03', 0)).toBeUndefined();
    await a.policy.quotas.giveBack('u_9', '2026-03-03'); // nothing taken: stays at zero
    expect(await a.policy.quotas.usage('u_9', '2026-03-03')).toEqual({ used: 0, granted: 0 });
    await b.policy.quotas.flush();
    expect(await a.policy.quotas.deleteBefore('2026-03-03')).toBe(1);
    expect(await b.policy.quotas.usage('u_1', '2026-03-02')).toEqual({ used: 0, granted: 0 });
    expect(await b.policy.quotas.usage('u_1', '2026-03-03')).toEqual({ used: 1, granted: 0 });
  });

  it('lets one of many concurrent claims of a notice win across instances, and the next after it expires', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).policy.notices.claim('quiet:u_1:p1', 2_000, 1_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await a.policy.notices.claim('quiet:u_1:p1', 3_000, 1_999)).toBe(false);
    expect(await b.policy.notices.claim('quiet:u_1:p1', 3_000, 2_000)).toBe(true);
  });

  it('applies an exam started through one instance on the other, until it ends', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    await a.policy.exams.start({ groupId: 'g1', id: 'e1', startedAt: 0, endsAt: 10_000 });
    await a.policy.exams.start({ groupId: 'g2', id: 'e2', startedAt: 0, endsAt: 5_000 });
    expect(await b.policy.exams.active('g1', 9_999)).toEqual({ groupId: 'g1', id: 'e1', startedAt: 0, endsAt: 10_000 });
    expect(await b.policy.exams.active('g1', 10_000)).toBeUndefined();
    expect(await b.policy.exams.end('g2', 1_000)).toBe(true);
    expect(await a.policy.exams.active('g2', 1_000)).toBeUndefined();
    expect(await a.policy.exams.end('g2', 1_000)).toBe(false);
    await a.policy.exams.start({ groupId: 'g3', id: 'e3', startedAt: 0, endsAt: 20_000 });
    expect(await b.policy.exams.deleteEnded(10_000)).toBe(1);
    expect(await a.policy.exams.active('g3', 10_000)).toMatchObject({ id: 'e3' });
  });

  it('appends audit records once per id, from any instance, and reads them back by time across pages', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    const record = (i: number): AuditRecord => ({
      id: `chat:m${String(i).padStart(5, '0')}`,
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
    for (let i = 0; i < 2_500; i++) await (i % 2 ? a : b).policy.audit.append(record(i));
    await a.policy.audit.append({ ...record(7), outcome: 'failed' }); // a replay: ignored
    await Promise.all([a.policy.audit.flush(), b.policy.audit.flush()]);
    const ids: string[] = [];
    for await (const r of b.policy.audit.between(1_000, 2_000)) ids.push(r.id);
    expect(ids).toHaveLength(2_500);
    expect(ids).toEqual([...ids].sort()); // by time (and id within a millisecond)
    const first = (await a.policy.audit.between(1_002, 1_003)[Symbol.asyncIterator]().next()).value as AuditRecord;
    expect(first).toEqual({ ...record(6), latencyMs: 12 });
    const replayed = [];
    for await (const r of a.policy.audit.between(1_002, 1_003)) replayed.push(r);
    expect(replayed.find((r) => r.id === record(7).id)?.outcome).toBe('answered');
    expect(await a.policy.audit.deleteBefore(1_500)).toBe(1_500);
    await b.policy.audit.append(record(0)); // its id went with the purge: recorded again
    let left = 0;
    for await (const _ of a.policy.audit.between(0, 5_000)) left++;
    expect(left).toBe(1_001);
  });

  it('keeps review transcripts by time and purges them', async () => {
    const prefix = uniquePrefix();
    const s = await open(prefix);
    const entry = (i: number) => ({ id: `t${i}`, at: 100 + i, user: 'u_1', role: 'teacher' as const, conversation: 'dm' as const, question: `问题 ${i}`, answer: `回答 ${i}` });
    for (let i = 0; i < 5; i++) await s.policy.transcripts.append(entry(i));
    await s.policy.transcripts.flush();
    const got = [];
    for await (const t of s.policy.transcripts.between(101, 104)) got.push(t);
    expect(got).toEqual([entry(1), entry(2), entry(3)]);
    expect(await s.policy.transcripts.deleteBefore(103)).toBe(3);
  });
});
