import { describe, expect, it } from 'vitest';
import { FAKE_CARD_TEMPLATE_ID, type FakeCard } from '../fakes/fake-card-api.js';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { fakeDingTalkEnv, spawnService } from '../helpers/service-process.js';
import { withLabel } from '../helpers/ai-label.js';
import { waitFor } from '../helpers/stream-harness.js';

const answerOf = (q: string) => `关于「${q}」的回答：第一段说明原理，第二段举一个例子，第三段总结要点。The end of ${q}.`;
const streamed = (c: FakeCard) => c.updates.filter((u) => u.via === 'streaming');
const closed = (c: FakeCard | undefined) => c !== undefined && (c.state === 'finished' || c.state === 'failed');

describe('kill -9 mid-stream, whole process', () => {
  it('after the restart each message has exactly one finished card with its whole answer, and nothing else', async () => {
    const fake = await startFakeDingTalk({ assistant: { runDurationMs: 5_000, deltaCount: 16, answer: (q) => answerOf(q) } });
    const env = fakeDingTalkEnv(fake, {
      DINGTALK_REPLY_MODE: 'card',
      DINGTALK_CARD_TEMPLATE_ID: FAKE_CARD_TEMPLATE_ID,
      CARD_UPDATE_INTERVAL_MS: '500',
    });
    try {
      const first = await spawnService(env);
      await waitFor(() => fake.gateway.connections === 1, 10_000, 'the Stream connection');
      fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidDm', staffId: 'stuK', text: '私聊问题' }));
      fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidGroup', group: true, staffId: 'stuG', text: '群聊问题' }));
      const dm = () => fake.cards.cardsIn('stuK')[0];
      const group = () => fake.cards.cardsIn('cidGroup')[0];
      await waitFor(() => [dm(), group()].every((c) => c !== undefined && streamed(c).length >= 1), 10_000, 'both cards typing');
      expect(closed(dm()) || closed(group())).toBe(false);
      first.child.kill('SIGKILL');
      await first.exited;

      const second = await spawnService(env);
      try {
        await waitFor(() => closed(dm()) && closed(group()), 20_000, 'both cards finished after the restart');
        for (const [card, q] of [[dm()!, '私聊问题'], [group()!, '群聊问题']] as const) {
          const finals = streamed(card).filter((u) => u.isFinalize);
          expect(finals).toHaveLength(1);
          expect(finals[0]).toMatchObject({ isError: false, content: withLabel(answerOf(q)) });
          expect(card.updates.filter((u) => u.afterClose)).toEqual([]);
        }
        expect(fake.cards.cardsIn('stuK')).toHaveLength(1);
        expect(fake.cards.cardsIn('cidGroup')).toHaveLength(1);
        expect(fake.robot.replies).toEqual([]); // no second answer as markdown
        // Each question reached the assistant once (the restarted process resumed the run).
        const asked = [...fake.assistant.threads.keys()].flatMap((t) => fake.assistant.userMessages(t)).sort();
        expect(asked).toEqual(['私聊问题', '群聊问题'].sort());
        expect(second.stdout.join('\n')).toContain('continuing a card the previous process left open');
      } finally {
        expect(await second.stop('SIGTERM')).toBe(0);
      }
      expect(fake.cards.openCards()).toEqual([]);
    } finally {
      await fake.close();
    }
  }, 45_000);
});
