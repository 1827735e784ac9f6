import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningDemo } from '../../src/demo/start-demo.js';
import { dmOf, startTestDemo } from '../helpers/demo-page-client.js';

// Debian's chromium (installed by .ci/run when missing); no browser download.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let demo: RunningDemo;
let browser: BrowserContext;
let page: Page;
/** Script errors on the page: every test ends with none. */
let pageErrors: string[] = [];

beforeAll(async () => {
  ({ demo } = await startTestDemo());
  browser = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});
afterEach(async () => {
  await page?.close();
  expect(pageErrors).toEqual([]);
});

async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
  page = await browser.newPage();
  pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(demo.pageUrl);
  await page.locator('#chat-list .chat-item').first().waitFor();
  return page;
}

async function send(p: Page, text: string): Promise<void> {
  await p.fill('#input', text);
  await p.press('#input', 'Enter');
}

describe('the demo chat page in Chromium', () => {
  it('a student @s the bot in the class group and sees the answer rendered as DingTalk would', async () => {
    const p = await openPage();
    await p.selectOption('#me', 'stu-zhangyue');
    await p.getByRole('button', { name: /高一\(3\)班/ }).click();
    await p.click('#mention-bot');
    await expect.poll(() => p.inputValue('#input')).toBe('@AI助手 ');
    await p.type('#input', '牛顿第一定律是什么？');
    await p.press('#input', 'Enter');

    const mine = p.locator('li.msg.mine').last();
    await expect.poll(() => mine.textContent()).toContain('牛顿第一定律是什么？');
    await mine.getByText('acked by the bot').waitFor();
    const reply = p.locator('li.msg.from-bot').last();
    await reply.locator('.bubble').waitFor();
    // Markdown rendered: bold, the quote of the question, code for the variable names, the @mention by name.
    expect(await reply.locator('.bubble strong').first().textContent()).toBe('演示模式 · Demo mode');
    expect(await reply.locator('.bubble blockquote').textContent()).toContain('牛顿第一定律是什么？');
    expect(await reply.locator('.bubble code').allTextContents()).toEqual(expect.arrayContaining(['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL']));
    expect(await reply.locator('.mention').textContent()).toBe('@张悦 Zhang Yue');
    expect(await reply.locator('.msg-meta').textContent()).toContain('sessionWebhook');
    expect(await p.locator('#banner').textContent()).toContain('OPENAI_BASE_URL');
  });

  it('an answer holding HTML shows it as text: no element is created and no handler runs', async () => {
    const p = await openPage();
    await p.selectOption('#me', 'stu-liming');
    await p.getByRole('button', { name: /单聊/ }).click();
    await send(p, 'Hi <img src=x onerror="window.__pwned=1"> [x](javascript:window.__pwned=2) <script>window.__pwned=3</script>');
    const reply = p.locator('li.msg.from-bot').last();
    await reply.locator('blockquote').waitFor();
    // DingTalk-safe markdown drops real tags such as <img> before the reply is sent; the rest of
    // the HTML arrives as text and must stay text.
    expect(await reply.locator('blockquote').textContent()).toContain('<script>window.__pwned=3</script>');
    expect(await p.evaluate('window.__pwned')).toBeUndefined();
    expect(await p.locator('#messages img, #messages script').count()).toBe(0);
    expect(await p.locator('#messages a[href^="javascript"]').count()).toBe(0);
  });

  it('an AI card fills in as updates arrive and shows its finished state', async () => {
    const p = await openPage();
    await p.selectOption('#me', 'stu-emma');
    await p.getByRole('button', { name: /单聊/ }).click();
    const base = demo.pageUrl.replace(/\/$/, '');
    const { accessToken } = (await (await post(`${base}/v1.0/oauth2/accessToken`, demo.simulator.credentials)).json()) as { accessToken: string };
    const id = `card_${randomUUID()}`;
    const headers = { 'x-acs-dingtalk-access-token': accessToken };
    await post(`${base}/v1.0/card/instances/createAndDeliver`, {
      cardTemplateId: 'demo.schema',
      outTrackId: id,
      cardData: { cardParamMap: { content: ' ', flowStatus: '1' } },
      openSpaceId: 'dtv1.card//IM_ROBOT.stu-emma',
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT' },
    }, headers);
    const card = p.locator('.card').last();
    await expect.poll(() => card.locator('.card-status').textContent()).toContain('思考中');
    const streamed = (content: string, flags = {}) =>
      post(`${base}/v1.0/card/streaming`, { outTrackId: id, guid: randomUUID(), key: 'content', content, isFull: true, ...flags }, headers, 'PUT');
    await streamed('**光合作用**是');
    await expect.poll(() => card.locator('.card-status').textContent()).toContain('输入中');
    expect(await card.locator('.card-body strong').textContent()).toBe('光合作用');
    await streamed('**光合作用**是植物制造养分的过程。', { isFinalize: true });
    await expect.poll(() => card.locator('.card-status').textContent()).toContain('已完成');
    expect(await card.locator('.card-body').textContent()).toContain('是植物制造养分的过程。');
    expect(await p.locator('.card').count()).toBe(1);
    expect(dmOf('stu-emma')).toBeTruthy();
  });

  it('is usable on a phone-sized screen: no sideways scrolling, labelled controls, the composer in reach', async () => {
    const p = await openPage({ width: 390, height: 844 });
    const overflow = (await p.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    const input = p.getByRole('textbox', { name: '消息 · Message' });
    const box = await input.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y + box!.height).toBeLessThanOrEqual(844); // in view without scrolling the page
    expect(await p.getByRole('combobox', { name: '我是 · I am' }).isVisible()).toBe(true);
    await send(p, '@AI助手 /help');
    await p.locator('li.msg.from-bot .bubble').last().waitFor();
    expect(await p.locator('li.msg.from-bot .bubble').last().textContent()).toContain('/new');
  });
});

function post(url: string, body: unknown, headers: Record<string, string> = {}, method = 'POST'): Promise<Response> {
  return fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
