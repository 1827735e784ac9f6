import { afterEach, describe, expect, it } from 'vitest';
import { withLabel } from '../helpers/ai-label.js';
import { sampleValue } from '../helpers/prometheus-text.js';
import { startCluster, type ClusterHarness, type Instance } from '../helpers/cluster-harness.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSharedRedis } from '../helpers/shared-redis.js';
import { sleep } from '../helpers/scripted-backend.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * Two instances of the whole service (buildApp, as main builds it) on one Redis and one fake
 * DingTalk: one Stream connection between them, sessions shared over HTTP, one conversation's
 * questions never answered side by side, and a message handed to the other instance answered once.
 */
const redis = useSharedRedis();
const clusters: ClusterHarness[] = [];
afterEach(async () => {
  await Promise.allSettled(clusters.splice(0).map((c) => c.close()));
});

async function cluster(env: Record<string, string> = {}): Promise<ClusterHarness> {
  const c = await startCluster({
    instances: 2,
    env: { SESSION_STORAGE: redis.url, REDIS_KEY_PREFIX: uniquePrefix(), REDIS_LEASE_SECONDS: '2', ...env },
  });
  clusters.push(c);
  return c;
}

async function ask(instance: Instance, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${instance.app.url}/assistant/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function health(instance: Instance): Promise<any> {
  return (await fetch(`${instance.app.url}/healthz`)).json();
}

describe('two instances on one Redis', () => {
  it('open one Stream connection between them, and /healthz and /metrics say which one holds it', async () => {
    const c = await cluster();
    const leader = await c.leader();
    const standby = c.instances.find((i) => i !== leader)!;
    await sleep(500); // a few lease rounds: still one connection
    expect(c.gateway.connections).toBe(1);
    expect((await health(leader)).stream).toMatchObject({ state: 'connected', leader: true });
    expect((await health(standby)).stream).toMatchObject({ state: 'standby', leader: false });
    // Standing by is healthy: nginx keeps sending it HTTP questions.
    expect((await health(standby)).checks.stream).toEqual({ status: 'ok' });
    const connected = async (i: Instance) => sampleValue(await (await fetch(`${i.app.url}/metrics`)).text(), 'bridge_stream_connected');
    expect([await connected(leader), await connected(standby)]).toEqual([1, 0]);
  });

  it('share sessions over HTTP: a follow-up on the other instance continues the conversation', async () => {
    const c = await cluster();
    const [a, b] = c.instances as [Instance, Instance];
    const first = await ask(a, { question: 'What is photosynthesis?' });
    expect(first.status).toBe(200);
    const second = await ask(b, { question: 'And its products?', sessionId: first.body.sessionId });
    expect(second).toMatchObject({ status: 200, body: { code: 0, sessionId: first.body.sessionId, answer: withLabel('answer 2: And its products?') } });
    expect(c.backend.threads.size).toBe(1);
    expect([...c.backend.threads.values()][0]).toEqual(['What is photosynthesis?', 'And its products?']);
  });

  it('answer one session’s questions one after the other, even when they arrive at both instances at once', async () => {
    const c = await cluster();
    const [a, b] = c.instances as [Instance, Instance];
    const { body } = await ask(a, { question: 'start' });
    c.backend.delayMs = 300;
    const both = await Promise.all([
      ask(a, { question: 'via a', sessionId: body.sessionId }),
      ask(b, { question: 'via b', sessionId: body.sessionId }),
      ask(a, { question: 'via a again', sessionId: body.sessionId }),
    ]);
    expect(both.map((r) => r.status)).toEqual([200, 200, 200]); // waited, never refused as busy
    expect(c.backend.maxConcurrent).toBe(1);
    expect([...c.backend.threads.values()][0]).toHaveLength(4);
  });

  it('answer a message once when DingTalk hands it again to the other instance', async () => {
    const c = await cluster();
    const first = await c.leader();
    const payload = c.robot.robotMessage({ conversationId: 'cidHandover', text: 'answer me once' });
    const frame = c.gateway.push(payload);
    await waitFor(() => c.robot.replies.length === 1, 10_000, 'the answer');
    await first.app.stop(); // an upgrade: the first instance goes away gracefully
    const second = await c.leader(5_000);
    expect(second).not.toBe(first);
    c.gateway.redeliver(frame); // on the new connection
    c.gateway.push(payload); // and as a new frame with the same message id
    await waitFor(() => c.gateway.acks.filter((a) => a.messageId === frame).length === 2, 5_000, 'the redelivery acked');
    await waitFor(() => c.gateway.acks.length === 3, 5_000, 'the second frame acked');
    await sleep(300);
    expect(c.robot.replies).toHaveLength(1);
    expect(c.backend.count('ask')).toBe(1);
    expect(second.logs.lines.join('\n')).toContain('dropping a redelivered message');
  });
});
