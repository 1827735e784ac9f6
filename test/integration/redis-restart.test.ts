import { describe, expect, it } from 'vitest';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { withLabel } from '../helpers/ai-label.js';
import { startCluster, type Instance } from '../helpers/cluster-harness.js';
import { sampleValue } from '../helpers/prometheus-text.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * Redis restarts (kill -9, append-only file) under two running instances: questions fail with
 * the catalogued 503 and chat gets the friendly sentence meanwhile; nothing recorded before is
 * lost; both instances resume on their own when Redis is back.
 */
describe('a Redis restart mid-run', () => {
  it('503 and "unavailable" while it is down, then the same sessions and ledger once it is back', async () => {
    const server = await startRedisServer({ persistent: true });
    const c = await startCluster({
      instances: 2,
      env: { SESSION_STORAGE: server.url, REDIS_KEY_PREFIX: uniquePrefix(), REDIS_LEASE_SECONDS: '5' },
    });
    const ask = async (i: Instance, body: unknown) => {
      const res = await fetch(`${i.app.url}/assistant/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { code: number; sessionId?: string } };
    };
    const healthStatus = async (i: Instance) => (await fetch(`${i.app.url}/healthz`)).status;
    try {
      const [a, b] = c.instances as [Instance, Instance];
      await c.leader();
      const started = await ask(a, { question: 'before the restart' });
      expect(started.status).toBe(200);
      const sessionId = started.body.sessionId!;
      const chatFrame = c.gateway.push(c.robot.robotMessage({ conversationId: 'cidRestart', text: 'chat before' }));
      await waitFor(() => c.robot.replies.length === 1, 10_000, 'the first chat answer');

      await server.kill();
      expect(await ask(b, { question: 'during', sessionId })).toMatchObject({ status: 503, body: { code: 50301 } });
      expect(await ask(a, { question: 'during, new session' })).toMatchObject({ status: 503, body: { code: 50301 } });
      expect(await healthStatus(a)).toBe(503);
      // Not recorded, so not acked (DingTalk delivers it again); the user hears why meanwhile.
      const duringFrame = c.gateway.push(c.robot.robotMessage({ conversationId: 'cidDuring', text: 'chat during' }));
      await waitFor(() => c.robot.replies.length === 2, 10_000, 'the friendly sentence');
      expect(c.robot.replies[1]!.text).toBe(CHAT_TEXTS.unavailable);
      expect(c.gateway.ackFor(duringFrame)).toBeUndefined();

      await server.start();
      await waitFor(async () => (await healthStatus(a)) === 200 && (await healthStatus(b)) === 200, 10_000, 'both instances healthy again');
      const resumed = await ask(b, { question: 'after the restart', sessionId });
      expect(resumed).toMatchObject({ status: 200, body: { code: 0, sessionId } }); // the session survived
      expect([...c.backend.threads.values()].find((t) => t.includes('before the restart'))).toEqual(['before the restart', 'after the restart']);

      const leader = await c.leader(); // still exactly one Stream connection
      c.gateway.redeliver(chatFrame); // the ledger survived too: answered before, dropped now
      c.gateway.redeliver(duringFrame); // DingTalk delivers the unacked message again: answered now
      await waitFor(() => c.robot.replies.length === 3, 10_000, 'the answer to the message sent while Redis was down');
      c.gateway.push(c.robot.robotMessage({ conversationId: 'cidRestart', text: 'chat after' }));
      await waitFor(() => c.robot.replies.length === 4, 10_000, 'the chat answer after the restart');
      await waitFor(() => c.gateway.acks.filter((x) => x.messageId === chatFrame).length === 2, 5_000, 'the redelivery acked');
      expect(c.robot.replies.map((r) => r.text)).toEqual([
        withLabel('answer 1: chat before'),
        CHAT_TEXTS.unavailable,
        withLabel('answer 1: chat during'),
        withLabel('answer 2: chat after'),
      ]);
      // Each question counted once, by how it ended (the one sent during the outage was answered),
      // summed over the instances (the Stream may have changed hands with the restart).
      const chatOutcome = async (outcome: string) => {
        let sum = 0;
        for (const i of c.instances) {
          const metrics = await (await fetch(`${i.app.url}/metrics`)).text();
          sum += sampleValue(metrics, 'bridge_questions_total', { transport: 'chat', outcome }) ?? 0;
        }
        return sum;
      };
      // The count follows the reply by a moment.
      await waitFor(async () => (await chatOutcome('answered')) === 3, 5_000, 'three chat questions counted as answered');
      expect(await chatOutcome('unavailable')).toBe(0);
      expect(leader).toBeDefined();
    } finally {
      await c.close();
      await server.close();
    }
  }, 40_000);
});
