import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { waitFor } from '../helpers/stream-harness.js';
import { withLabel } from '../helpers/ai-label.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBot(env: Record<string, string> = {}) {
  const fake = await startFakeDingTalk();
  cleanups.push(() => fake.close());
  const config = loadConfig({
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    HOST: '127.0.0.1',
    PORT: '0',
    DING_APP_KEY: fake.tokens.appKey,
    DING_APP_SECRET: fake.tokens.appSecret,
    AI_ASSISTANT_ID: fake.assistant.assistantId,
    DINGTALK_API_BASE: fake.baseUrl,
    DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
    SESSION_STORAGE: `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'e2e-')), 'bot.sqlite')}`,
    THINKING_NOTICE_SECONDS: '0',
    ...env,
  });
  const { logger, redactor, lines } = captureLogger();
  redactor.add(config.dingtalk.appSecret);
  // The real service as main builds it: real backend, real Stream client, real replies.
  const app = await buildApp(config, { logger, redactor });
  cleanups.push(() => app.stop());
  await app.start();
  await waitFor(() => app.stream.status().state === 'connected');
  return { fake, config, lines };
}

describe('Done when: Stream socket → ack → real engine + DingTalk assistant backend → sessionWebhook', () => {
  it('answers a pushed group message with the assistant, acked before the reply', async () => {
    const { fake, config, lines } = await startBot();
    const messageId = fake.gateway.push(
      fake.robot.robotMessage({ conversationId: 'cidClass', group: true, staffId: 'stu7', text: ' 牛顿第一定律是什么？' }),
    );
    await waitFor(() => fake.robot.replies.length === 1, 15_000, 'the answer');
    const reply = fake.robot.replies[0]!;
    expect(reply).toMatchObject({ via: 'webhook', conversationId: 'cidClass', atUserIds: ['stu7'] });
    expect(reply.text).toBe(`${withLabel('答：牛顿第一定律是什么？')}\n\n@stu7`);
    expect(fake.gateway.ackFor(messageId)!.seq).toBeLessThan(reply.seq);
    expect(lines.join('\n')).not.toContain(config.dingtalk.appSecret);
  });

  it('a run that never finishes: the user is told at the deadline, and the next question abandons it cleanly', async () => {
    const { fake, lines } = await startBot({ ANSWER_TIMEOUT_SECONDS: '5' });
    fake.assistant.scriptNextRun({ neverFinish: true });
    fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidStuck', text: 'first' }));
    await waitFor(() => fake.robot.replies.length === 1, 12_000, 'the timeout notice');
    expect(fake.robot.replies[0]!.text).toBe(CHAT_TEXTS.timeout);
    fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidStuck', text: 'second' }));
    await waitFor(() => fake.robot.replies.length === 2, 12_000, 'the next answer');
    expect(fake.robot.replies[1]!.text).toBe(withLabel('答：second'));
    const threads = [...fake.assistant.threads.keys()];
    expect(threads).toHaveLength(2); // the stuck thread was abandoned for a new one
    expect(threads.map((t) => fake.assistant.userMessages(t))).toEqual([['first'], ['second']]);
    const log = lines.join('\n');
    expect(log).toContain('abandoning a thread whose earlier run never ended');
    expect(log).not.toContain('run.lastmessage.invalid');
  }, 30_000);
});
