import { describe, expect, it } from 'vitest';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { withLabel } from '../helpers/ai-label.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSharedRedis } from '../helpers/shared-redis.js';
import { fakeDingTalkEnv, type ServiceProcess, spawnService } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * Two whole service processes on one Redis and one fake DingTalk. The Stream holder is killed
 * with SIGKILL while it answers: the other process opens the Stream within one lease, answers
 * every message the dead one had recorded but not answered, exactly once, and drops the frames
 * DingTalk hands it again.
 */
const redis = useSharedRedis();
const LEASE_SECONDS = 2;

describe('Stream failover after kill -9 of the holder', () => {
  it('the standby takes the Stream and answers what the holder left, each message exactly once', async () => {
    const fake = await startFakeDingTalk({ assistant: { runDurationMs: 1_500 } });
    const env = fakeDingTalkEnv(fake, {
      SESSION_STORAGE: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix(),
      REDIS_LEASE_SECONDS: String(LEASE_SECONDS),
      THINKING_NOTICE_SECONDS: '0',
    });
    const processes: ServiceProcess[] = [];
    const health = async (p: ServiceProcess) => ((await (await fetch(`${p.url}/healthz`)).json()) as { stream: Record<string, unknown> }).stream;
    try {
      const holder = await spawnService(env);
      processes.push(holder);
      await waitFor(() => fake.gateway.socketCount === 1, 10_000, 'the first Stream connection');
      const standby = await spawnService(env);
      processes.push(standby);
      expect(await health(holder)).toMatchObject({ state: 'connected', leader: true });
      expect(await health(standby)).toMatchObject({ state: 'standby', leader: false });

      const questions = ['q1 photosynthesis', 'q2 respiration', 'q3 inertia', 'q4 momentum', 'q5 osmosis', 'q6 entropy'];
      const frames = questions.map((text, i) => fake.gateway.push(fake.robot.robotMessage({ conversationId: `cidFailover${i % 3}`, text })));
      await waitFor(() => frames.every((f) => fake.gateway.isAcked(f)), 5_000, 'every frame acked by the holder');
      holder.child.kill('SIGKILL'); // mid-answer: the runs take 1.5 s
      await holder.exited;
      expect(fake.robot.replies).toHaveLength(0);

      await waitFor(() => fake.gateway.socketCount === 1 && fake.gateway.connections === 2, (LEASE_SECONDS + 5) * 1_000, 'the standby to open the Stream');
      fake.gateway.redeliver(frames[0]!); // DingTalk hands some frames to the new connection again
      fake.gateway.redeliver(frames[5]!);
      await waitFor(() => fake.robot.replies.length >= questions.length, 15_000, 'every message answered');
      await waitFor(() => fake.gateway.acks.length === questions.length + 2, 5_000, 'the redelivered frames acked');
      await new Promise((r) => setTimeout(r, 500));

      const replied = fake.robot.replies.map((r) => r.text);
      expect(replied.sort()).toEqual(questions.map((q) => withLabel(`答：${q}`)).sort());
      const asked = [...fake.assistant.threads.keys()].flatMap((t) => fake.assistant.userMessages(t));
      expect(asked.sort()).toEqual([...questions].sort()); // each question reached the assistant once
      expect(await health(standby)).toMatchObject({ state: 'connected', leader: true });
      const logs = standby.stdout.join('\n');
      expect(logs).toContain('resuming a chat message left unanswered');
      expect(logs).toContain('dropping a redelivered message');
      expect(logs).toContain('this instance now holds the DingTalk Stream');
      expect(await standby.stop('SIGTERM')).toBe(0);
    } finally {
      await Promise.all(processes.map((p) => p.stop('SIGKILL', 1_000)));
      await fake.close();
    }
  }, 60_000);
});
