import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { directConversationKey } from '../../src/engine/conversation-key.js';
import type { RunningDemo } from '../../src/demo/start-demo.js';
import { dmOf, GROUP, startTestDemo } from '../helpers/demo-page-client.js';

const running: RunningDemo[] = [];
afterEach(async () => {
  for (const demo of running.splice(0)) await demo.stop();
});

async function demoUp(env: Record<string, string> = {}, stepMs = 5) {
  const started = await startTestDemo(env, stepMs);
  running.push(started.demo);
  return started;
}

describe('npm run demo: the real service against the built-in DingTalk simulator', () => {
  it('a direct message takes the real path: Stream frame, ack, engine, sessionWebhook reply', async () => {
    const { demo, page, logs } = await demoUp();
    const sent = await page.say(dmOf('stu-liming'), 'stu-liming', '什么是光合作用？');
    const [reply] = await page.replies(dmOf('stu-liming'), 1, 'the answer');

    expect(reply).toMatchObject({ from: 'bot', via: 'webhook', kind: 'markdown' });
    expect(reply!.text).toContain('演示模式 · Demo mode');
    expect(reply!.text).toContain('> 什么是光合作用？');
    expect(page.messages.get(sent.id)).toMatchObject({ toBot: true, delivery: 'acked' });

    // The wire, in order: registration, socket, ping echoed, the frame, its ack, then the reply.
    const kinds = page.wire.map((e) => e.kind);
    for (const kind of ['gateway', 'socket', 'ping', 'frame', 'ack', 'webhook']) expect(kinds).toContain(kind);
    const ack = page.wire.find((e) => e.kind === 'ack' && e.detail.includes(sent.id.slice(0, 12)))!;
    const webhook = page.wire.find((e) => e.kind === 'webhook')!;
    expect(ack.rev).toBeLessThan(webhook.rev);
    expect(page.wire.find((e) => e.kind === 'ping')!.detail).toContain('echoed');

    // The real engine kept the conversation, and the real replier sent it.
    expect(await demo.app.engine.hasSession(directConversationKey(dmOf('stu-liming')))).toBe(true);
    const delivered = logs.records().find((r) => r.message === 'reply delivered');
    expect(delivered).toMatchObject({ via: 'webhook', parts: 1 });
    expect(logs.lines.join('\n')).not.toContain(demo.simulator.credentials.appSecret);
  });

  it('in the group only a message that @s the bot reaches it, and the answer @s the student', async () => {
    const { page } = await demoUp();
    const plain = await page.say(GROUP, 'stu-zhangyue', '今天的作业是什么？');
    const asked = await page.say(GROUP, 'stu-zhangyue', '@AI助手 牛顿第一定律是什么？');
    const [reply] = await page.replies(GROUP, 1, 'the answer in the group');

    expect(plain).toMatchObject({ toBot: false });
    expect(page.messages.get(plain.id)!.delivery).toBeUndefined();
    expect(page.wire.some((e) => e.detail.includes(plain.id.slice(0, 12)))).toBe(false);
    expect(page.messages.get(asked.id)).toMatchObject({ toBot: true, delivery: 'acked' });

    expect(reply).toMatchObject({ via: 'webhook', atUserIds: ['stu-zhangyue'] });
    expect(reply!.text).toMatch(/@stu-zhangyue$/);
    // DingTalk removed the @bot from the text the bot got; the unmentioned message never reached it.
    expect(reply!.text).toContain('> 牛顿第一定律是什么？');
    expect(reply!.text).not.toContain('@AI助手');
    expect(reply!.text).not.toContain('今天的作业');
    await page.refresh();
    expect(page.botReplies(GROUP)).toHaveLength(1);
  });

  it('a follow-up continues the conversation, /help and /new are answered without the model, and /new resets', async () => {
    const { page } = await demoUp();
    const dm = dmOf('stu-emma');
    const ask = async (text: string, n: number) => {
      await page.say(dm, 'stu-emma', text);
      return (await page.replies(dm, n, `reply ${n}`))[n - 1]!.text;
    };
    expect(await ask('What is osmosis?', 1)).toContain('第 1 个问题');
    expect(await ask('And diffusion?', 2)).toContain('第 2 个问题，你上一个问题是「What is osmosis?」');
    expect(await ask('/help', 3)).toBe(CHAT_TEXTS.help);
    expect(await ask('/new', 4)).toBe(CHAT_TEXTS.newConversation);
    expect(await ask('What is osmosis?', 5)).toContain('第 1 个问题');
  });

  it('a long answer is split into parts marked (1/3)…(3/3), the first @ing the student', async () => {
    const { page } = await demoUp();
    await page.say(GROUP, 'teacher-wang', '@AI助手 请写一篇长回答');
    const parts = await page.replies(GROUP, 3, 'three parts');
    await page.refresh();
    expect(page.botReplies(GROUP)).toHaveLength(3);
    expect(parts.map((p) => p.text.match(/\((\d)\/(\d)\)(?: @teacher-wang)?$/)?.slice(1))).toEqual([
      ['1', '3'],
      ['2', '3'],
      ['3', '3'],
    ]);
    expect(parts[0]!.text).toMatch(/\(1\/3\) @teacher-wang$/);
    expect(parts.map((p) => p.atUserIds)).toEqual([['teacher-wang'], [], []]);
    for (const p of parts) expect(Array.from(p.text).length).toBeLessThan(3_500);
    expect(parts[0]!.text).toContain('演示模式');
    expect(parts[2]!.text).toContain('OPENAI_MODEL');
  });

  it('a slow answer gets the "thinking" notice first, and a failure the friendly sentence', async () => {
    const { page } = await demoUp({ THINKING_NOTICE_SECONDS: '1' }, 200);
    const dm = dmOf('stu-zhangyue');
    await page.say(dm, 'stu-zhangyue', 'please write a long answer');
    const replies = await page.replies(dm, 4, 'the notice and three parts');
    expect(replies[0]!.text).toBe(CHAT_TEXTS.thinking);
    expect(replies[1]!.text).toMatch(/\(1\/3\)$/);
    await page.say(dm, 'stu-zhangyue', '演示错误 demo error');
    const after = await page.replies(dm, 5, 'the failure sentence');
    expect(after[4]!.text).toBe(CHAT_TEXTS.unavailable);
  });

  it('the HTTP API of the same service answers with the demo backend too', async () => {
    const { demo } = await demoUp();
    const res = await fetch(`${demo.apiUrl}/assistant/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'Hello from the school website' }),
    });
    const body = (await res.json()) as { code: number; answer: string };
    expect(res.status).toBe(200);
    expect(body.code).toBe(0);
    expect(body.answer).toContain('> Hello from the school website');
  });

  it('the page API refuses a person writing in a chat they are not in', async () => {
    const { page } = await demoUp();
    await expect(page.say(dmOf('stu-liming'), 'stu-emma', 'hi')).rejects.toThrow(/400/);
    await expect(page.say(GROUP, 'nobody', 'hi')).rejects.toThrow(/400/);
  });
});
