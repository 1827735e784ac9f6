import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';
import { ScriptedBackend } from '../helpers/scripted-backend.js';

/**
 * The web chat page in a real headless Chromium (Debian's package; no browser download). Every
 * test starts its own service on a new port, so each has an origin, and storage, of its own.
 */
// The few browser globals the functions run in the page use (the project compiles without the DOM lib).
declare const localStorage: Record<string, string>;
declare const sessionStorage: Record<string, string>;
declare const document: { activeElement: { id: string } | null; documentElement: { scrollWidth: number } };
declare const window: { __xss?: number };
interface ParsedElement {
  tagName: string;
  getAttributeNames(): string[];
  getAttribute(name: string): string | null;
}
declare class DOMParser {
  parseFromString(html: string, type: string): { body: { querySelectorAll(selector: string): Iterable<ParsedElement> } };
}

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let browser: BrowserContext;
beforeAll(async () => {
  browser = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
  });
});
afterAll(async () => {
  await browser?.close();
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function service(env: Record<string, string> = {}, answer?: (text: string, history: string[]) => string) {
  const backend = new ScriptedBackend();
  if (answer) backend.answer = answer;
  const h = await startHttpHarness(env, backend);
  cleanups.push(() => {
    // Chromium keeps (pre)connected sockets open: end them so close() need not wait for them.
    h.app.server.closeAllConnections();
    return h.close();
  });
  return { h, backend };
}

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  cleanups.push(() => page.close());
  await page.goto(url);
  return page;
}

async function askOnPage(page: Page, text: string): Promise<void> {
  const before = await page.locator('.msg.bot, .msg.error').count();
  await page.getByLabel('你的问题 · Your question').fill(text);
  await page.getByLabel('你的问题 · Your question').press('Enter');
  await page.locator('.msg.bot, .msg.error').nth(before).waitFor({ timeout: 5_000 });
}

const storedSessionId = (page: Page) =>
  page.evaluate(() => Object.entries(localStorage).find(([k]) => k.endsWith(':sessionId'))?.[1] ?? null);

describe('web chat page (Chromium)', () => {
  it('a question, a follow-up in the same conversation, a reload, then a new conversation', async () => {
    const { h, backend } = await service({}, (text, history) => `**Answer ${history.length}** to ${text}:\n\n- glucose\n- oxygen`);
    const page = await open(`${h.url}/`);
    await askOnPage(page, 'What does photosynthesis make?');
    const first = page.locator('.msg.bot').nth(0);
    expect(await first.locator('strong').textContent()).toBe('Answer 1');
    expect(await first.locator('li').allTextContents()).toEqual(['glucose', 'oxygen']);
    const sessionId = await storedSessionId(page);
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('question'); // ready for the next question

    await askOnPage(page, 'And where?');
    expect(backend.threads.size).toBe(1); // the backend saw one conversation
    expect([...backend.threads.values()][0]).toEqual(['What does photosynthesis make?', 'And where?']);

    await page.reload();
    await page.locator('.notice', { hasText: 'Continuing your earlier conversation' }).waitFor({ timeout: 5_000 });
    await askOnPage(page, 'One more');
    expect(await storedSessionId(page)).toBe(sessionId);
    expect([...backend.threads.values()][0]).toHaveLength(3);

    await page.getByRole('button', { name: /New conversation/ }).click();
    expect(await storedSessionId(page)).toBeNull();
    expect(await page.locator('.msg').count()).toBe(0);
    await askOnPage(page, 'A new topic');
    expect(backend.threads.size).toBe(2);
    expect(await storedSessionId(page)).not.toBe(sessionId);
  });

  it('shows an error of the catalogue in Chinese and English (429 with its wait)', async () => {
    const { h } = await service({ RATE_LIMIT: '1/minute' });
    const page = await open(`${h.url}/`);
    await askOnPage(page, 'first');
    await askOnPage(page, 'second, too soon');
    const error = page.locator('.msg.error');
    await expect.poll(() => error.count()).toBe(1);
    const text = (await error.textContent()) ?? '';
    expect(text).toContain(ERRORS.RATE_LIMITED.zh);
    expect(text).toContain(ERRORS.RATE_LIMITED.message);
    expect(text).toMatch(/retry in \d+ s/);
  });

  it('an answer carrying HTML is shown as text: <img onerror>, <script> and javascript: links never run', async () => {
    const evil = 'Look: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [x](javascript:window.__xss=3) **still bold**';
    const { h } = await service({}, () => evil);
    const page = await open(`${h.url}/`);
    await askOnPage(page, 'show me html');
    const answer = page.locator('.msg.bot');
    await page.waitForTimeout(200); // an onerror handler would have fired by now (the image fails at once)
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
    expect(await answer.locator('img, script, a').count()).toBe(0);
    expect(await answer.locator('strong').textContent()).toBe('still bold');
    expect(await answer.textContent()).toContain('<img src=x onerror="window.__xss=1">');
  });

  it('the renderer only ever emits its own tags and http(s) links, whatever the answer holds', async () => {
    const { h } = await service();
    const page = await open(`${h.url}/`);
    const token = fc.constantFrom(
      '<', '>', '"', "'", '&', '*', '**', '_', '`', '```', '\n', '\n\n', '[', ']', '(', ')', 'http://x.example/', 'https://y.example/a?b=1&c=2',
      'javascript:', 'data:', '<img src=x onerror=alert(1)>', '<script>', '</p>', '<a href="http://z">', '# ', '- ', '1. ', '> ', 'a', '中文', ' ', '\uE000', '\uE002',
    );
    const inputs = fc.sample(fc.array(token, { maxLength: 40 }).map((t) => t.join('')), 300);
    // The page's own module, loaded the way chat.js loads it (a string: vitest would rewrite import()).
    const markdown = await page.evaluateHandle(`import(new URL('web-chat/markdown.js', location.href).href)`);
    const violations = await page.evaluate(([module, texts]) => {
      const { renderMarkdown } = module as { renderMarkdown(s: string): string };
      const allowed: Record<string, string[]> = { P: [], BR: [], H3: [], H4: [], UL: [], OL: [], LI: [], BLOCKQUOTE: [], STRONG: [], EM: [], PRE: [], CODE: ['class'], A: ['href', 'target', 'rel'] };
      const bad: string[] = [];
      for (const text of texts) {
        const doc = new DOMParser().parseFromString(`<body>${renderMarkdown(text)}</body>`, 'text/html');
        for (const el of doc.body.querySelectorAll('*')) {
          const attrs = allowed[el.tagName];
          if (!attrs) bad.push(`${el.tagName} from ${JSON.stringify(text)}`);
          for (const a of el.getAttributeNames()) if (!attrs?.includes(a)) bad.push(`${el.tagName}[${a}] from ${JSON.stringify(text)}`);
          if (el.tagName === 'A' && !/^https?:\/\//.test(el.getAttribute('href') ?? '')) bad.push(`href ${el.getAttribute('href')}`);
        }
      }
      return bad;
    }, [markdown, inputs] as const);
    expect(violations).toEqual([]);
  });

  it('asks for the API key when the API answers 401, keeps it in sessionStorage only, and sends the question again', async () => {
    const key = 'Web-Key-0123456789abcdef';
    const { h, backend } = await service({ ASK_API_KEYS: key });
    const page = await open(`${h.url}/`);
    await askOnPage(page, 'Who needs a key?');
    const keyBox = page.getByLabel(/An access key is required/);
    await keyBox.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
    expect(await page.locator('.msg.error').last().textContent()).toContain(ERRORS.UNAUTHORIZED.zh);

    await keyBox.fill('wrong-key-value');
    await keyBox.press('Enter');
    await expect.poll(() => page.locator('.msg.error').last().textContent()).toContain('The key was not accepted');

    await keyBox.fill(key);
    await keyBox.press('Enter');
    await page.locator('.msg.bot').waitFor({ timeout: 5_000 });
    expect([...backend.threads.values()]).toEqual([['Who needs a key?']]);
    expect(await page.locator('#key-form').isHidden()).toBe(true);
    const stored = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage) }));
    expect(stored.session).toContain(key);
    expect(stored.local).not.toContain(key);
  });

  it('works behind a path prefix (a reverse proxy at /school/ai/) with CORS limited to the school site', async () => {
    const { h, backend } = await service({ CORS_ORIGINS: 'https://www.school.example' });
    const proxy = await prefixProxy('/school/ai/', h.url);
    const page = await open(`${proxy.url}/school/ai/`);
    await askOnPage(page, 'Through the proxy?');
    expect([...backend.threads.values()]).toEqual([['Through the proxy?']]);
    expect(proxy.outside).toEqual([]); // every request the page made stayed under the prefix
    expect(proxy.inside).toEqual(expect.arrayContaining(['/school/ai/web-chat/chat.js', '/school/ai/web-chat/errors.json', '/school/ai/assistant/ask']));
  });

  it('embeds in the school site with the README iframe snippet; CORS_ORIGINS decides who may embed it', async () => {
    const { h } = await service();
    const snippet = /<iframe[^>]*src="https:\/\/ai\.school\.example\/"[^>]*><\/iframe>/.exec(readFileSync(new URL('../../README.md', import.meta.url), 'utf8'))?.[0];
    expect(snippet, 'the README has the iframe snippet').toBeDefined();
    // The parent page on another origin (localhost vs 127.0.0.1).
    const site = await staticSite(`<!doctype html><title>School</title><h1>School</h1>${snippet!.replace('https://ai.school.example/', `${h.url}/`)}`);
    const page = await open(site.replace('127.0.0.1', 'localhost'));
    const frame = page.frameLocator('iframe');
    await frame.getByLabel('你的问题 · Your question').fill('From the school site');
    await frame.getByLabel('你的问题 · Your question').press('Enter');
    await frame.locator('.msg.bot').waitFor({ timeout: 5_000 });
    expect(await frame.locator('.msg.bot').textContent()).toContain('From the school site');

    const limited = await service({ CORS_ORIGINS: 'https://www.school.example' });
    const res = await fetch(`${limited.h.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self' https://www.school.example");
  });

  it('fits a phone screen and is labelled for screen readers', async () => {
    const { h } = await service();
    const page = await browser.newPage();
    cleanups.push(() => page.close());
    await page.setViewportSize({ width: 360, height: 640 });
    await page.goto(`${h.url}/`);
    await askOnPage(page, 'A phone question with a long unbroken word: ' + 'x'.repeat(200));
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    const send = await page.getByRole('button', { name: /Send/ }).boundingBox();
    expect(send!.x + send!.width).toBeLessThanOrEqual(360);
    expect(send!.y + send!.height).toBeLessThanOrEqual(640);
    expect(await page.getByRole('log').getAttribute('aria-live')).toBe('polite');
    expect(await page.getByRole('textbox', { name: /Your question/ }).count()).toBe(1);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
  });
});

describe('web chat page (HTTP)', () => {
  let h: HttpHarness;
  afterEach(async () => h?.close());

  it('serves the catalogue\'s messages, so the page and the API cannot drift', async () => {
    h = await startHttpHarness();
    const res = await fetch(`${h.url}/web-chat/errors.json`);
    const messages = (await res.json()) as Record<string, { zh: string; en: string }>;
    expect(Object.keys(messages)).toHaveLength(Object.keys(ERRORS).length);
    for (const spec of Object.values(ERRORS)) expect(messages[String(spec.code)]).toEqual({ zh: spec.zh, en: spec.message });
    const page = await fetch(`${h.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'.*frame-ancestors \*/);
  });

  it('WEB_CHAT_ENABLED=false: no page, the API as before', async () => {
    h = await startHttpHarness({ WEB_CHAT_ENABLED: 'false' });
    const res = await fetch(`${h.url}/`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: ERRORS.NOT_FOUND.code, message: ERRORS.NOT_FOUND.message });
    expect((await fetch(`${h.url}/web-chat/chat.js`)).status).toBe(404);
    expect((await h.ask({ question: 'still here?' })).status).toBe(200);
  });
});

/** A reverse proxy that serves the service under `prefix` and records every path asked for. */
async function prefixProxy(prefix: string, target: string) {
  const inside: string[] = [];
  const outside: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(prefix)) {
      outside.push(url);
      res.writeHead(404).end();
      return;
    }
    inside.push(url.split('?')[0]!);
    const upstream = http.request(`${target}/${url.slice(prefix.length)}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => closeServer(server));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, inside, outside };
}

async function staticSite(html: string): Promise<string> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => closeServer(server));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** The browser keeps connections alive: end them, or close() waits for ever. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
