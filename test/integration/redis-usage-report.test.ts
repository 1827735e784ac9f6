import { describe, expect, it } from 'vitest';
import { runReport } from '../../src/report/report-main.js';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { TEST_ENV } from '../helpers/http-harness.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { useSharedRedis } from '../helpers/shared-redis.js';

/** `npm run report` reads the audit trail several instances wrote to Redis, and never prints its password. */
const redis = useSharedRedis();
const NOW = Date.parse('2026-03-07T04:00:00Z'); // 12:00 in Shanghai

function record(id: string, iso: string, extra: Partial<AuditRecord> = {}): AuditRecord {
  return { id, at: Date.parse(iso), transport: 'chat', user: `u_${id}`, role: 'student', conversation: 'dm', backend: 'openai', outcome: 'answered', latencyMs: 100, ...extra };
}

async function report(env: Record<string, string>) {
  let out = '';
  let err = '';
  const code = await runReport(['--days', '2'], env, { out: (t) => (out += t), err: (t) => (err += t), now: () => NOW });
  return { code, out, err };
}

describe('npm run report on Redis', () => {
  it('counts the questions both instances recorded', async () => {
    const prefix = uniquePrefix();
    const open = () => openStorage({ url: redis.url, keyPrefix: prefix, leaseMs: 2_000, ledgerTtlMs: 60_000, logger: captureLogger().logger });
    const [a, b] = [await open(), await open()];
    await a.policy.audit.append(record('1', '2026-03-06T03:00:00Z'));
    await b.policy.audit.append(record('2', '2026-03-06T03:10:00Z', { outcome: 'blocked' }));
    await b.policy.audit.append(record('3', '2026-03-07T01:00:00Z', { role: 'teacher' }));
    await a.policy.audit.append(record('old', '2026-03-01T03:00:00Z')); // outside --days 2
    await Promise.all([a.close(), b.close()]);
    const { code, out } = await report({ ...TEST_ENV, SESSION_STORAGE: redis.url, REDIS_KEY_PREFIX: prefix });
    expect(code).toBe(0);
    expect(out).toContain('提问 Questions 3，已回答 answered 2（67%）');
    expect(out).toContain('内容拦截 Blocked 1');
  });

  it('says Redis cannot be reached, naming the address without its password', async () => {
    const server = await startRedisServer({ password: 'Report-Pass-4r5t6y7u' });
    await server.stop();
    try {
      const { code, out, err } = await report({ ...TEST_ENV, SESSION_STORAGE: server.url });
      expect(code).toBe(1);
      expect(err).toMatch(/cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
      expect(out + err).not.toContain('Report-Pass');
    } finally {
      await server.close();
    }
  });
});
