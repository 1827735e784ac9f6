import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { loadConfig } from '../../src/config/config.js';
import { AssistantError } from '../../src/errors.js';
import { FAKE_CARD_TEMPLATE_ID, type FakeCard } from '../fakes/fake-card-api.js';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { withLabel } from '../helpers/ai-label.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';
import { chunksOf, StreamingBackend, type StreamScript } from '../helpers/streaming-backend.js';

const open: StreamHarness[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CARD_ENV = { DINGTALK_REPLY_MODE: 'card', DINGTALK_CARD_TEMPLATE_ID: FAKE_CARD_TEMPLATE_ID, CARD_UPDATE_INTERVAL_MS: '500' };

/** The answer the backend writes for a question, in 10-character pieces every `chunkMs`. */
const answerOf = (q: string) => `关于「${q}」：光合作用把光能变成化学能，产物是葡萄糖和氧气。This is the whole answer to ${q}.`;

async function cardBot(options: { env?: Record<string, string>; script?: (q: string) => StreamScript } = {}) {
  const backend = new StreamingBackend(options.script ?? ((q) => ({ chunks: chunksOf(answerOf(q), 10), chunkMs: 120 })));
  const h = await startStreamHarness({ env: { ...CARD_ENV, ...options.env }, backend: () => backend });
  open.push(h);
  return { h, backend };
}

function ask(h: StreamHarness, text: string, where: { group?: boolean; conversationId?: string; staffId?: string } = {}) {
  const conversationId = where.conversationId ?? `cid-${text}`;
  h.gateway.push(h.robot.robotMessage({ conversationId, group: where.group, staffId: where.staffId ?? `stu-${text}`, text }));
  return conversationId;
}

const finished = (c: FakeCard) => c.state === 'finished' || c.state === 'failed';
const streamed = (c: FakeCard) => c.updates.filter((u) => u.via === 'streaming');
const logged = (h: StreamHarness, msg: string) => h.logs.records().filter((r) => r.message === msg || r.msg === msg);

describe('AI cards (DINGTALK_REPLY_MODE=card)', () => {
  it('a direct question: one card that fills in as the model writes and ends finalized with exactly the answer', async () => {
    const { h } = await cardBot();
    ask(h, '光合作用', { staffId: 'stu-dm' });
    await waitFor(() => h.cards.cardsIn('stu-dm').some(finished), 10_000, 'the card to finish');
    const [card, ...others] = h.cards.cardsIn('stu-dm');
    expect(others).toEqual([]);
    expect(card!.templateId).toBe(FAKE_CARD_TEMPLATE_ID);
    expect(card!.space).toEqual({ kind: 'direct', id: 'stu-dm' });
    expect(card!.params.content).toBe(withLabel(answerOf('光合作用')));
    const updates = streamed(card!);
    expect(updates.length).toBeGreaterThanOrEqual(3); // it filled in, not all at the end
    expect(updates.slice(0, -1).every((u) => !u.isFinalize && answerOf('光合作用').startsWith(u.content))).toBe(true);
    expect(updates.at(-1)).toMatchObject({ isFinalize: true, isError: false, content: withLabel(answerOf('光合作用')), afterClose: false });
    expect(updates.filter((u) => u.isFinalize)).toHaveLength(1);
    expect(h.robot.replies).toEqual([]); // no markdown, no thinking notice
    expect(h.cards.unexpectedRejections()).toEqual([]);
    // The answer's log line counts its DingTalk calls: one create and every update.
    await waitFor(() => logged(h, 'card answer finished').length === 1, 2_000, 'the log line');
    expect(logged(h, 'card answer finished')[0]!.dingtalkCalls).toEqual({ card_create: 1, card_update: updates.length });
    expect(await h.storage.cards.list()).toEqual([]);
  });

  it('a group question: the card goes to the group, @s the asker, and ends with exactly the answer', async () => {
    const { h } = await cardBot();
    ask(h, '牛顿', { group: true, conversationId: 'cidPhysics', staffId: 'stu7' });
    await waitFor(() => h.cards.cardsIn('cidPhysics').some(finished), 10_000, 'the card to finish');
    const [card, ...others] = h.cards.cardsIn('cidPhysics');
    expect(others).toEqual([]);
    expect(card!.space).toEqual({ kind: 'group', id: 'cidPhysics' });
    expect(Object.keys(card!.atUserIds)).toEqual(['stu7']);
    expect(streamed(card!).at(-1)).toMatchObject({ isFinalize: true, content: withLabel(answerOf('牛顿')) });
    expect(h.robot.replies).toEqual([]);
  });

  it('updates of one card are never closer than CARD_UPDATE_INTERVAL_MS, and the latest text wins', async () => {
    // 60 pieces, one every 40 ms: far more text changes than updates.
    const { h } = await cardBot({ script: (q) => ({ chunks: chunksOf(answerOf(q).repeat(3), 4), chunkMs: 40 }) });
    ask(h, 'interval', { staffId: 'stu-int' });
    await waitFor(() => h.cards.cardsIn('stu-int').some(finished), 10_000, 'the card to finish');
    const updates = streamed(h.cards.cardsIn('stu-int')[0]!);
    expect(updates.length).toBeGreaterThanOrEqual(4);
    expect(updates.length).toBeLessThan(20);
    // Measured where the fake receives them, which adds a few ms of jitter on loopback.
    for (let i = 1; i < updates.length; i++) expect(updates[i]!.at - updates[i - 1]!.at).toBeGreaterThanOrEqual(500 - 25);
    expect(updates.at(-1)!.content).toBe(withLabel(answerOf('interval').repeat(3)));
  });

  it('30 answers at once: never more than 10 updates in any second, and every card finalized with its whole answer', async () => {
    const { h } = await cardBot({ script: (q) => ({ chunks: chunksOf(answerOf(q), 6), chunkMs: 150 }) });
    const questions = Array.from({ length: 30 }, (_, i) => `q${i}`);
    for (const q of questions) ask(h, q, { staffId: `stu-${q}` });
    await waitFor(() => questions.every((q) => h.cards.cardsIn(`stu-${q}`).some(finished)), 30_000, 'all 30 cards to finish');
    const times = h.cards.allUpdates().map((u) => u.at);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1_000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(10);
    for (const q of questions) {
      const cards = h.cards.cardsIn(`stu-${q}`);
      expect(cards).toHaveLength(1);
      const finals = streamed(cards[0]!).filter((u) => u.isFinalize);
      expect(finals).toHaveLength(1);
      expect(finals[0]!.content).toBe(withLabel(answerOf(q)));
    }
    expect(h.robot.replies).toEqual([]);
    expect(h.cards.unexpectedRejections()).toEqual([]);
  }, 40_000);

  it('never sends an empty content: blank text so far is not shown, the placeholder is not empty', async () => {
    const { h } = await cardBot({ script: () => ({ chunks: ['', '  ', '\n\n', '终于有字了', '，完整回答。'], chunkMs: 550 }) });
    ask(h, 'blank', { staffId: 'stu-blank' });
    await waitFor(() => h.cards.cardsIn('stu-blank').some(finished), 10_000, 'the card to finish');
    const card = h.cards.cardsIn('stu-blank')[0]!;
    expect(card.params.content).toBe(withLabel('\n\n  终于有字了，完整回答。'.trim()));
    for (const u of streamed(card)) expect(u.content.trim()).not.toBe('');
    expect(h.cards.unexpectedRejections()).toEqual([]); // no param.stream.contentEmpty
  });

  it('a failure mid-stream finalizes the card with the friendly failure sentence, in its failure state', async () => {
    const { h } = await cardBot({
      script: () => ({ chunks: ['部分答案，', '写到一半'], chunkMs: 300, fail: new AssistantError('unavailable', 'model down') }),
    });
    ask(h, 'broken', { staffId: 'stu-fail' });
    await waitFor(() => h.cards.cardsIn('stu-fail').some(finished), 10_000, 'the card to close');
    const card = h.cards.cardsIn('stu-fail')[0]!;
    const updates = streamed(card);
    expect(updates.some((u) => !u.isFinalize && u.content.startsWith('部分答案'))).toBe(true);
    expect(updates.at(-1)).toMatchObject({ isFinalize: true, isError: true, content: CHAT_TEXTS.unavailable });
    expect(card.state).toBe('failed');
    expect(h.robot.replies).toEqual([]);
  });

  it('without Card.Instance.Write: the answer goes out as markdown, once, no card is left behind, and cards stay off', async () => {
    const { h } = await cardBot();
    h.cards.deniedScopes.add('Card.Instance.Write');
    ask(h, 'first', { staffId: 'stu-perm' });
    await waitFor(() => h.robot.replies.length === 1, 10_000, 'the markdown answer');
    expect(h.robot.replies[0]!.text).toBe(withLabel(answerOf('first')));
    ask(h, 'second', { staffId: 'stu-perm2' });
    await waitFor(() => h.robot.replies.length === 2, 10_000, 'the second answer');
    expect(h.robot.replies[1]!.text).toBe(withLabel(answerOf('second')));
    expect(h.cards.calls.create).toBe(1); // remembered: the second question did not try again
    expect(h.cards.openCards()).toEqual([]);
    expect(h.cards.cards.size).toBe(0);
    const off = logged(h, 'AI cards turned off for a while; answering in markdown');
    expect(off).toHaveLength(1); // logged once, with why
    expect(off[0]).toMatchObject({ kind: 'permission', requiredScopes: ['Card.Instance.Write'] });
    expect(await h.storage.cards.list()).toEqual([]);
  });

  it('without Card.Streaming.Write (seen at start-up): no card is ever created; answers are markdown', async () => {
    const { h } = await cardBot();
    h.cards.deniedScopes.add('Card.Streaming.Write');
    await h.restart(); // the start-up check sees the missing permission
    ask(h, 'stream-perm', { staffId: 'stu-sp' });
    await waitFor(() => h.robot.replies.length === 1, 10_000, 'the markdown answer');
    expect(h.robot.replies[0]!.text).toBe(withLabel(answerOf('stream-perm')));
    expect(h.cards.calls.create).toBe(0);
    expect(logged(h, 'AI cards turned off for a while; answering in markdown').at(-1)).toMatchObject({ requiredScopes: ['Card.Streaming.Write'] });
  });

  it.each([
    ['an unknown template', (h: StreamHarness) => h.cards.templates.delete(FAKE_CARD_TEMPLATE_ID), 'template'],
    ['a delivery that fails (200 with deliverResults success false)', (h: StreamHarness) => h.cards.failDeliveryNext(), 'delivery'],
  ])('%s: markdown answer, nothing spinning', async (_name, breakIt, kind) => {
    const { h } = await cardBot();
    breakIt(h);
    ask(h, 'fallback', { staffId: 'stu-fb' });
    await waitFor(() => h.robot.replies.length === 1, 10_000, 'the markdown answer');
    expect(h.robot.replies[0]!.text).toBe(withLabel(answerOf('fallback')));
    expect(h.cards.openCards()).toEqual([]);
    expect(logged(h, 'AI cards turned off for a while; answering in markdown')[0]).toMatchObject({ kind });
    expect(await h.storage.cards.list()).toEqual([]);
  });

  it('a create that times out: markdown answer now, and the card, created late after all, is pointed at it', async () => {
    const { h } = await cardBot({ env: { DINGTALK_TIMEOUT_SECONDS: '1' } });
    h.server.inject({ method: 'POST', path: '/v1.0/card/instances/createAndDeliver', delayMs: 1_500, times: 1 });
    ask(h, 'slow-create', { staffId: 'stu-slow' });
    await waitFor(() => h.robot.replies.length === 1, 10_000, 'the markdown answer');
    expect(h.robot.replies[0]!.text).toBe(withLabel(answerOf('slow-create')));
    await waitFor(() => h.cards.cardsIn('stu-slow').some(finished), 10_000, 'the late card closed');
    expect(streamed(h.cards.cardsIn('stu-slow')[0]!)).toEqual([expect.objectContaining({ isFinalize: true, content: CHAT_TEXTS.cardAnsweredBelow })]);
    await waitFor(async () => (await h.storage.cards.list()).length === 0, 2_000, 'the record cleared');
    ask(h, 'next', { staffId: 'stu-next' }); // a timeout does not turn cards off
    await waitFor(() => h.cards.cardsIn('stu-next').some(finished), 10_000, 'the next card');
  }, 20_000);

  it('403 QpsLimit while streaming: updates are skipped and backed off, the final still arrives', async () => {
    const { h } = await cardBot({ script: (q) => ({ chunks: chunksOf(answerOf(q), 8), chunkMs: 250 }) });
    ask(h, 'busy', { staffId: 'stu-qps' });
    await waitFor(() => streamed(h.cards.cardsIn('stu-qps')[0] ?? ({ updates: [] } as unknown as FakeCard)).length >= 1, 10_000, 'a first update');
    h.cards.throttleNext('stream', 2);
    await waitFor(() => h.cards.cardsIn('stu-qps').some(finished), 15_000, 'the card to finish');
    const card = h.cards.cardsIn('stu-qps')[0]!;
    expect(h.cards.rejections.filter((r) => r.code.includes('QpsLimit'))).toHaveLength(2);
    expect(streamed(card).at(-1)).toMatchObject({ isFinalize: true, content: withLabel(answerOf('busy')) });
    expect(h.robot.replies).toEqual([]);
  });

  it('an answer longer than a card: the card ends with the first part, the rest follows as markdown, no code block cut', async () => {
    const code = ['```python', ...Array.from({ length: 40 }, (_, i) => `print("step ${i}: ${'x'.repeat(20)}")`), '```'].join('\n');
    const long = [`${'第一部分内容。'.repeat(300)}`, code, `${'结尾段落。'.repeat(200)}`].join('\n\n');
    const { h } = await cardBot({ script: () => ({ chunks: chunksOf(long, 600), chunkMs: 60 }) });
    ask(h, 'long', { staffId: 'stu-long' });
    await waitFor(() => h.cards.cardsIn('stu-long').some(finished) && h.robot.replies.length >= 1, 15_000, 'card and messages');
    await new Promise((r) => setTimeout(r, 300));
    const final = streamed(h.cards.cardsIn('stu-long')[0]!).at(-1)!;
    expect(final.isFinalize).toBe(true);
    expect(final.content.length).toBeLessThanOrEqual(3_000);
    expect(final.content.endsWith(CHAT_TEXTS.cardContinued)).toBe(true);
    const messages = h.robot.replies.map((r) => r.text);
    expect(messages[0]).toMatch(/\(2\/\d\)$/);
    // Everything arrived once, in order: the card's part, then the messages without their markers.
    const shown = [final.content.replace(CHAT_TEXTS.cardContinued, ''), ...messages.map((m) => m.replace(/\n\n\(\d+\/\d+\)$/, ''))].join('');
    expect(shown.replace(/\s+/g, '')).toBe(withLabel(long).replace(/\s+/g, ''));
    for (const m of messages) expect((m.match(/```/g) ?? []).length % 2).toBe(0);
  });
});

describe('AI cards with the DingTalk assistant backend (its streamed run is what the card shows)', () => {
  it('a DM and a group question each fill one card as the run streams, ending with exactly the answer', async () => {
    const fake = await startFakeDingTalk({ assistant: { runDurationMs: 2_500, deltaCount: 10, answer: (q) => answerOf(q) } });
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
      SESSION_STORAGE: `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'card-e2e-')), 'bot.sqlite')}`,
      ...CARD_ENV,
    });
    const { logger, redactor } = captureLogger();
    const app = await buildApp(config, { logger, redactor });
    cleanups.push(() => app.stop());
    await app.start();
    await waitFor(() => app.stream.status().state === 'connected');
    fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidDm', staffId: 'stuD', text: '私聊' }));
    fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidG', group: true, staffId: 'stuG', text: '群聊' }));
    await waitFor(() => [...fake.cards.cardsIn('stuD'), ...fake.cards.cardsIn('cidG')].filter(finished).length === 2, 15_000, 'both cards');
    for (const [space, q] of [['stuD', '私聊'], ['cidG', '群聊']] as const) {
      const cards = fake.cards.cardsIn(space);
      expect(cards).toHaveLength(1);
      const updates = streamed(cards[0]!);
      expect(updates.length).toBeGreaterThanOrEqual(3);
      for (const u of updates.slice(0, -1)) expect(answerOf(q).startsWith(u.content)).toBe(true);
      expect(updates.at(-1)).toMatchObject({ isFinalize: true, content: withLabel(answerOf(q)) });
    }
    expect(fake.robot.replies).toEqual([]);
    expect(fake.cards.unexpectedRejections()).toEqual([]);
  });
});

describe('markdown mode (the default): unchanged apart from DingTalk-safe formatting', () => {
  it('sends one markdown message with the table as list lines and the code block intact, and logs its call count', async () => {
    const answer = '结果如下：\n\n| 量 | 单位 |\n|---|---|\n| 力 | N |\n\n```js\nconst f = m * a; // <b>not html</b>\n```';
    const backend = new StreamingBackend(() => ({ chunks: [answer], chunkMs: 10 }));
    const h = await startStreamHarness({ backend: () => backend });
    open.push(h);
    ask(h, 'md', { staffId: 'stu-md' });
    await waitFor(() => h.robot.replies.length === 1, 10_000, 'the answer');
    expect(h.robot.replies[0]!.text).toBe(withLabel('结果如下：\n\n- **力** · 单位：N\n\n```js\nconst f = m * a; // <b>not html</b>\n```'));
    expect(h.cards.calls).toEqual({ create: 0, stream: 0, instances: 0 });
    await waitFor(() => logged(h, 'reply delivered').length === 1, 2_000, 'the log line');
    expect(logged(h, 'reply delivered').at(-1)).toMatchObject({ parts: 1, dingtalkCalls: { send: 1 } });
  });
});
