import { describe, expect, it } from 'vitest';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { fakeDingTalkEnv, type ServiceProcess, spawnService } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * The password of a `redis://:password@…` SESSION_STORAGE, and METRICS_TOKEN, never reach the
 * logs or any response: the whole service as a process at LOG_LEVEL=debug, answering over HTTP
 * and chat on a password-protected Redis, then refused at start with a wrong password.
 */
const PASSWORD = 'RedisPw-7Qm2Xk9Lz4-unique';
const WRONG = 'RedisPw-Wr0ngWr0ng-unique';
const METRICS_TOKEN = 'MetricsTok-3f9a1c7e5b-unique';

describe('Redis and metrics secrets in logs', () => {
  it('never shows the Redis password or the metrics token, in a healthy run or a refused start', async () => {
    const redis = await startRedisServer({ password: PASSWORD });
    const fake = await startFakeDingTalk({ assistant: { runDurationMs: 50 } });
    const env = fakeDingTalkEnv(fake, {
      SESSION_STORAGE: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix(),
      METRICS_TOKEN,
      THINKING_NOTICE_SECONDS: '0',
      LOG_LEVEL: 'debug',
    });
    const processes: ServiceProcess[] = [];
    const bodies: string[] = [];
    try {
      const svc = await spawnService(env);
      processes.push(svc);
      await waitFor(() => fake.gateway.socketCount === 1, 10_000, 'the Stream connection');
      fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidSecrets', text: 'hello' }));
      await waitFor(() => fake.robot.replies.length === 1, 10_000, 'the chat answer');
      const ask = await fetch(`${svc.url}/assistant/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"question":"hi"}' });
      bodies.push(await ask.text());
      expect(ask.status).toBe(200);
      for (const auth of [undefined, `Bearer ${METRICS_TOKEN}x`, `Bearer ${METRICS_TOKEN}`]) {
        const res = await fetch(`${svc.url}/metrics`, { headers: auth ? { authorization: auth } : {} });
        bodies.push(await res.text());
        expect(res.status).toBe(auth === `Bearer ${METRICS_TOKEN}` ? 200 : 401);
      }
      bodies.push(await (await fetch(`${svc.url}/healthz`)).text());
      expect(svc.stdout.join('\n')).toContain('"message":"session storage: redis"');
      expect(await svc.stop('SIGTERM')).toBe(0);

      const refused = await spawnService({ ...env, SESSION_STORAGE: redis.url.replace(PASSWORD, WRONG) }, { waitReady: false });
      processes.push(refused);
      expect(await refused.exited).toBe(1);
      expect(refused.stdout.join('\n')).toMatch(/cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: WRONGPASS/);

      const lines = processes.flatMap((p) => [...p.stdout, ...p.stderr]);
      expect(lines.length).toBeGreaterThan(10);
      const leaks = [...lines, ...bodies].filter((l) => [PASSWORD, WRONG, METRICS_TOKEN].some((s) => l.includes(s)));
      expect(leaks).toEqual([]);
    } finally {
      await Promise.all(processes.map((p) => p.stop('SIGKILL', 1_000)));
      await fake.close();
      await redis.close();
    }
  }, 40_000);
});
