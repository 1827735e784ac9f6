import { describe, expect, it } from 'vitest';
import { startFakeDingTalk, type FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { sleep } from '../fakes/fake-http-server.js';
import { withoutLabel } from '../helpers/ai-label.js';
import { BACKEND_FIXTURES } from '../helpers/backend-fixtures.js';
import { spawnService, tempStorageUrl, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * The exactly-once promise for chat holds with every backend: the whole service as a process,
 * messages pushed over the Stream fake while answers are slow, one kill -9 with answers in
 * flight, a restart on the same SQLite file. Every message gets exactly one answer.
 */
const MESSAGES = 24;
const CONVERSATIONS = 6;
const tagOf = (text: string) => /\[(x1-\d+)\]/.exec(text)?.[1];

function repliesPerTag(fake: FakeDingTalk): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of fake.robot.replies) {
    const tag = tagOf(r.text);
    if (tag) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return counts;
}

describe.each(BACKEND_FIXTURES)('chat exactly once after a kill -9, backend $name', (fixture) => {
  it('answers every message once, across the kill and the restart', async () => {
    const fake = await startFakeDingTalk({ gateway: { redeliverUnackedAfterMs: 1_500, maxRedeliveries: 20 } });
    const model = fixture.install(fake);
    model.slowDown(300);
    const env = {
      ...model.env,
      DING_APP_KEY: fake.tokens.appKey,
      DING_APP_SECRET: fake.tokens.appSecret,
      DINGTALK_API_BASE: fake.baseUrl,
      DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
      DINGTALK_TIMEOUT_SECONDS: '5',
      SESSION_STORAGE: tempStorageUrl(),
      HOST: '127.0.0.1',
      PORT: '0',
      THINKING_NOTICE_SECONDS: '0',
      USER_RATE_LIMIT: '10000/minute',
      CONVERSATION_QUEUE_LIMIT: '50',
      ANSWER_TIMEOUT_SECONDS: '20',
    };
    const processes: ServiceProcess[] = [];
    try {
      processes.push(await spawnService(env));
      await waitFor(() => fake.gateway.socketCount === 1, 10_000, 'the Stream connection');
      for (let i = 0; i < MESSAGES; i++) {
        const c = i % CONVERSATIONS;
        const text = `Q${i} [x1-${i}] 问题`;
        fake.gateway.push(fake.robot.robotMessage({ conversationId: `cidX${c}`, staffId: `stu${c}`, msgId: `x1-${i}`, text }));
        await sleep(40);
        if (i === MESSAGES / 2) {
          // Some answers are on their way, some acked messages wait in their lanes. Replies are
          // held at the fake first, so none is accepted in the instant before the kill (DingTalk's
          // send APIs have no idempotency key: such a reply would be sent again, as documented).
          await waitFor(() => repliesPerTag(fake).size >= 2, 10_000, 'the first answers');
          fake.robot.hold();
          await sleep(500);
          await processes.at(-1)!.stop('SIGKILL');
          processes.push(await spawnService(env));
          fake.robot.release();
        }
      }
      await waitFor(() => repliesPerTag(fake).size === MESSAGES, 40_000, 'an answer to every message');
      await waitFor(() => fake.gateway.unacked().length === 0, 15_000, 'every frame acked');
      await sleep(1_000); // a duplicate would arrive in this window
      const counts = repliesPerTag(fake);
      const wrong = Array.from({ length: MESSAGES }, (_, i) => `x1-${i}`).filter((t) => counts.get(t) !== 1);
      expect(wrong).toEqual([]);
      expect(fake.robot.replies.filter((r) => !tagOf(r.text))).toEqual([]); // no failure sentences
      for (const r of fake.robot.replies) expect(withoutLabel(r.text)).toMatch(/^答：Q\d+ \[x1-\d+\] 问题（之前\d+轮）$/);
      expect(processes).toHaveLength(2);
      // The kill really interrupted work: the new process answered what the old one had acked.
      expect(processes[1]!.stdout.join('\n')).toContain('resuming a chat message left unanswered');
    } finally {
      fake.robot.release();
      await Promise.all(processes.map((p) => p.stop('SIGKILL', 1_000)));
      await fake.close();
    }
  }, 90_000);
});
