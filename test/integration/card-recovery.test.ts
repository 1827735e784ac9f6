import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-message.js';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { loadConfig } from '../../src/config/config.js';
import { createDingTalkApi } from '../../src/dingtalk/dingtalk-http-client.js';
import { CardReplier } from '../../src/replies/dingtalk-ai-card/card-replier.js';
import { RobotReplier } from '../../src/replies/dingtalk-markdown/robot-replier.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { parseRobotMessage } from '../../src/transports/dingtalk-stream/robot-message.js';
import { FAKE_CARD_TEMPLATE_ID, FakeCardApi, type FakeCard } from '../fakes/fake-card-api.js';
import { FakeHttpServer } from '../fakes/fake-http-server.js';
import { FakeRobotApi } from '../fakes/fake-robot-api.js';
import { FakeTokenApi } from '../fakes/fake-token-api.js';
import { withLabel } from '../helpers/ai-label.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';
import { chunksOf, StreamingBackend } from '../helpers/streaming-backend.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const answerOf = (q: string) => `答：${q}（完整回答）`;

function fakeCard(outTrackId: string, spaceId: string, shown: string): FakeCard {
  return {
    outTrackId,
    templateId: FAKE_CARD_TEMPLATE_ID,
    space: { kind: 'direct', id: spaceId },
    atUserIds: {},
    params: { content: shown },
    createdAt: Date.now() - 5_000,
    delivered: true,
    state: 'inputing',
    updates: [],
  };
}

function messageOf(robot: FakeRobotApi, staffId: string, text: string): ChatMessage {
  const parsed = parseRobotMessage(JSON.stringify(robot.robotMessage({ conversationId: `cid-${staffId}`, staffId, text })), `frame-${staffId}`);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.message;
}

describe('cards a crash left open', () => {
  it('at start-up, closes every card left open, except those of pending messages, which recovery finishes (no second card)', async () => {
    const backend = new StreamingBackend((q) => ({ chunks: chunksOf(answerOf(q), 4), chunkMs: 80 }));
    const h: StreamHarness = await startStreamHarness({
      env: { DINGTALK_REPLY_MODE: 'card', DINGTALK_CARD_TEMPLATE_ID: FAKE_CARD_TEMPLATE_ID, CARD_UPDATE_INTERVAL_MS: '500' },
      backend: () => backend,
      async beforeBoot({ config, cards, robot }) {
        const { logger } = captureLogger();
        const storage = await openStorage({ url: config.sessions.storage, ledgerTtlMs: 3_600_000, logger });
        const pendingC = messageOf(robot, 'stuC', 'question C');
        const pendingE = messageOf(robot, 'stuE', 'question E');
        await storage.ledger.admit({ id: pendingC.id, admittedAt: Date.now(), payload: pendingC });
        await storage.ledger.admit({ id: pendingE.id, admittedAt: Date.now(), payload: pendingE });
        await storage.ledger.update(pendingE.id, { reply: 'E: the answer recorded before the crash' });
        const direct = (staffId: string) => ({ conversationType: 'direct', conversationId: `cid-${staffId}`, staffId });
        const at = Date.now() - 5_000;
        // A: mid-answer, message done. B: its final text recorded. C, E: messages still pending. D: never created.
        await storage.cards.put({ id: 'card_A', messageId: 'msgA', target: direct('stuA'), lastText: '写到一半', openedAt: at });
        await storage.cards.put({ id: 'card_B', messageId: 'msgB', target: { ...direct('stuB'), final: true }, lastText: 'B 的完整回答', openedAt: at });
        await storage.cards.put({ id: 'card_C', messageId: pendingC.id, target: direct('stuC'), lastText: '答：que', openedAt: at });
        await storage.cards.put({ id: 'card_D', messageId: 'msgD', target: direct('stuD'), lastText: '', openedAt: at });
        await storage.cards.put({ id: 'card_E', messageId: pendingE.id, target: direct('stuE'), lastText: 'E 写到一半', openedAt: at });
        await storage.close();
        for (const [id, who, shown] of [['card_A', 'stuA', '写到一半'], ['card_B', 'stuB', 'B 写到'], ['card_C', 'stuC', '答：que'], ['card_E', 'stuE', 'E 写到一半']] as const) {
          cards.cards.set(id, fakeCard(id, who, shown));
        }
      },
    });
    cleanups.push(() => h.close());
    const card = (id: string) => h.cards.cards.get(id)!;
    await waitFor(() => ['card_A', 'card_B', 'card_C', 'card_E'].every((id) => ['finished', 'failed'].includes(card(id).state)), 10_000, 'every card closed');
    await waitFor(async () => (await h.storage.cards.list()).length === 0, 5_000, 'the records cleared');

    expect(card('card_A').updates.at(-1)).toMatchObject({ isFinalize: true, isError: true, content: CHAT_TEXTS.failed });
    expect(card('card_B').updates.at(-1)).toMatchObject({ isFinalize: true, isError: false, content: 'B 的完整回答' });
    expect(card('card_C').updates.at(-1)).toMatchObject({ isFinalize: true, isError: false, content: withLabel(answerOf('question C')) });
    expect(card('card_E').updates.at(-1)).toMatchObject({ isFinalize: true, content: 'E: the answer recorded before the crash' });
    for (const id of ['card_A', 'card_B', 'card_C', 'card_E']) expect(card(id).updates.filter((u) => u.isFinalize)).toHaveLength(1);
    expect(h.cards.cards.size).toBe(4); // no new card for C or E
    expect(backend.asked).toEqual(['question C']); // E's answer was recorded: not asked again
    expect(h.robot.replies).toEqual([]);
    await waitFor(async () => (await h.storage.ledger.pending()).length === 0, 5_000, 'both pending messages completed');
  });
});

describe('the card watchdog and shutdown', () => {
  async function replierAlone(answerTimeoutMs: number) {
    const server = new FakeHttpServer();
    const tokens = new FakeTokenApi(server);
    const robot = new FakeRobotApi(server, { robotCode: tokens.appKey, checkAuth: (r) => tokens.checkAuth(r) });
    const cards = new FakeCardApi(server, { robotCode: tokens.appKey, checkAuth: (r) => tokens.checkAuth(r) });
    await server.listen();
    const dir = mkdtempSync(path.join(tmpdir(), 'card-wd-'));
    const config = loadConfig({
      DING_APP_KEY: tokens.appKey,
      DING_APP_SECRET: tokens.appSecret,
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      OPENAI_API_KEY: 'sk-unused',
      OPENAI_MODEL: 'm',
      DINGTALK_API_BASE: server.baseUrl,
      DINGTALK_WEBHOOK_ORIGINS: server.baseUrl,
      DINGTALK_REPLY_MODE: 'card',
      DINGTALK_CARD_TEMPLATE_ID: FAKE_CARD_TEMPLATE_ID,
      CARD_UPDATE_INTERVAL_MS: '500',
    });
    const logs = captureLogger();
    const storage = await openStorage({ url: `sqlite://${path.join(dir, 'x.sqlite')}`, ledgerTtlMs: 60_000, logger: logs.logger });
    const api = createDingTalkApi({ config, logger: logs.logger, redactor: logs.redactor });
    const markdown = new RobotReplier({ api, robotCode: tokens.appKey, timeoutMs: 2_000, logger: logs.logger, webhookOrigins: config.chatLimits.webhookOrigins });
    const replier = new CardReplier({
      api,
      markdown,
      store: storage.cards,
      robotCode: tokens.appKey,
      replies: config.replies,
      callTimeoutMs: 2_000,
      answerTimeoutMs,
      graceMs: 200,
      logger: logs.logger,
    });
    await replier.start(new Set());
    cleanups.push(async () => {
      await replier.stop();
      await storage.close();
      api.close();
      await server.close();
    });
    return { replier, cards, robot, storage, logs };
  }

  it('taking over from another instance, finishes the card it left open for a pending message in place', async () => {
    const { replier, cards, robot, storage } = await replierAlone(5_000);
    // Another instance (now dead) opened a card for this message after this one had started.
    const message = messageOf(robot, 'stuT', 'taken over');
    const target = { conversationType: 'direct', conversationId: 'cid-stuT', staffId: 'stuT' };
    await storage.cards.put({ id: 'card_T', messageId: message.id, target, lastText: '写到一半', openedAt: Date.now() - 60_000 });
    cards.cards.set('card_T', fakeCard('card_T', 'stuT', '写到一半'));
    await replier.adoptOpenAnswers(new Set([message.id]));
    const draft = await replier.startAnswer(message);
    expect(draft).toBeDefined();
    draft!.update('taken over: the whole answer');
    await draft!.finish('taken over: the whole answer');
    expect(cards.cards.size).toBe(1); // no second card for the message
    expect(cards.cards.get('card_T')!.updates.at(-1)).toMatchObject({ isFinalize: true, content: 'taken over: the whole answer' });
    expect(await storage.cards.list()).toEqual([]);
    expect(robot.replies).toEqual([]);
  });

  it('closes a card whose answer never finishes, at the deadline plus the grace, with the timeout sentence', async () => {
    const { replier, cards, robot, storage } = await replierAlone(400);
    const draft = await replier.startAnswer(messageOf(robot, 'stuW', 'slow'));
    expect(draft).toBeDefined();
    draft!.update('开始回答……');
    await waitFor(() => cards.cardsIn('stuW')[0]?.state === 'failed', 5_000, 'the watchdog to close the card');
    expect(cards.cardsIn('stuW')[0]!.updates.at(-1)).toMatchObject({ isFinalize: true, isError: true, content: CHAT_TEXTS.timeout });
    await waitFor(async () => (await storage.cards.list()).length === 0, 2_000, 'the record cleared');
    draft!.update('late text'); // ignored once closed
    await draft!.finish('a very late answer'); // the close already happened: nothing more is sent
    expect(cards.cardsIn('stuW')[0]!.updates.filter((u) => u.afterClose)).toEqual([]);
    expect(robot.replies).toEqual([]);
  });

  it('on shutdown, closes the cards being written with the failure sentence', async () => {
    const { replier, cards, robot, storage } = await replierAlone(30_000);
    const draft = await replier.startAnswer(messageOf(robot, 'stuS', 'stopping'));
    draft!.update('写到一半');
    await waitFor(() => (cards.cardsIn('stuS')[0]?.updates.length ?? 0) >= 1, 3_000, 'a first update');
    await replier.stop();
    expect(cards.cardsIn('stuS')[0]).toMatchObject({ state: 'failed' });
    expect(cards.cardsIn('stuS')[0]!.updates.at(-1)).toMatchObject({ isFinalize: true, content: CHAT_TEXTS.failed });
    expect(await storage.cards.list()).toEqual([]);
  });
});
