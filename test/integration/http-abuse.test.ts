import type net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';
import { openIdleConnections, rawExchange } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/stream-harness.js';

const harnesses: HttpHarness[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});
async function start(env: Record<string, string> = {}) {
  const h = await startHttpHarness(env);
  harnesses.push(h);
  return h;
}

const accessLines = (h: HttpHarness) => h.logs.lines.filter((l) => l.includes('"message":"http request"'));

describe('what a hostile client can make the service log', () => {
  it('one short access line for a request with a 4 KB URL, a 4 KB header and a 4 KB content type', async () => {
    const h = await start();
    const long = 'a'.repeat(4096);
    await rawExchange(h.url, `GET /${long}?q=${long} HTTP/1.1\r\nHost: x\r\nUser-Agent: ${long}\r\nConnection: close\r\n\r\n`);
    const body = '{"question":"hi"}';
    await rawExchange(
      h.url,
      `POST /assistant/ask HTTP/1.1\r\nHost: x\r\nContent-Type: text/${long}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    await waitFor(() => accessLines(h).length === 2, 5_000, 'two access lines');
    const [notFound, refused] = accessLines(h).map((l) => JSON.parse(l)) as Array<{ url: string; status: number; method: string; error?: string }>;
    expect(notFound).toMatchObject({ status: 404, method: 'GET' });
    expect(refused).toMatchObject({ status: 415, error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(notFound!.url.length).toBeLessThan(260);
    expect(notFound!.url.startsWith('/aaaa')).toBe(true);
    for (const line of accessLines(h)) expect(line.length).toBeLessThan(1_000);
  });

  it('unknown paths, the page and bare OPTIONS are rate limited per client too, apart from the questions', async () => {
    const h = await start({ HTTP_RATE_LIMIT: '3/minute', RATE_LIMIT: '2/minute' });
    const statuses = [];
    for (const path of ['/nope', '/nope', '/', '/nope', '/web-chat/chat.js']) statuses.push((await fetch(`${h.url}${path}`)).status);
    expect(statuses).toEqual([404, 404, 200, 429, 429]);
    const limited = await fetch(`${h.url}/nope`);
    expect(await limited.json()).toEqual({ code: 42901, message: expect.any(String) });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const options = await fetch(`${h.url}/assistant/ask`, { method: 'OPTIONS' });
    expect(options.status).toBe(429);
    expect(await options.json()).toEqual({ code: 42901, message: expect.any(String) });
    // Questions have their own bucket.
    expect((await h.ask({ question: 'still fine' })).status).toBe(200);
  });
});

describe('who a client is, for its rate limit', () => {
  it('the API key it authenticated with, however the header is spelled', async () => {
    const h = await start({ ASK_API_KEYS: 'key-one-abcdef,key-two-abcdef', RATE_LIMIT: '2/minute' });
    const as = (authorization: string) => h.ask({ question: 'hi' }, { authorization });
    expect((await as('Bearer key-one-abcdef')).status).toBe(200);
    expect((await as('bearer   key-one-abcdef')).status).toBe(200);
    expect((await as('BEARER key-one-abcdef ')).status).toBe(429);
    expect((await as('Bearer key-two-abcdef')).status).toBe(200); // another key, another caller
    expect(h.logs.lines.join('\n')).not.toContain('key-one-abcdef');
  });

  it('behind proxies named by address, the entry the proxy added; never one the client wrote', async () => {
    const h = await start({ RATE_LIMIT: '2/minute', TRUST_PROXY: '127.0.0.1,::1' });
    const via = (xff: string) => h.ask({ question: 'hi' }, { 'x-forwarded-for': xff });
    const statuses = [];
    for (const xff of ['10.1.1.1, 203.0.113.9', '10.2.2.2, 203.0.113.9', '10.3.3.3, 203.0.113.9', '203.0.113.10']) statuses.push((await via(xff)).status);
    expect(statuses).toEqual([200, 200, 429, 200]);
    const line = JSON.parse(accessLines(h).at(-1)!) as { ip: string };
    expect(line.ip).toBe('203.0.113.10');
  });
});

describe('slow and idle clients', () => {
  it('closes 300 connections whose body never finishes, with 408, once HTTP_REQUEST_TIMEOUT_SECONDS has passed', async () => {
    const h = await start({ HTTP_REQUEST_TIMEOUT_SECONDS: '1', RATE_LIMIT: '1000/minute' });
    const stalled = `POST /assistant/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"question":`;
    const results = await Promise.all(Array.from({ length: 300 }, () => rawExchange(h.url, stalled, 8_000)));
    expect(results.filter((r) => r.closedByServer)).toHaveLength(300);
    expect(results.filter((r) => r.received.startsWith('HTTP/1.1 408') && r.received.includes('"code":40801')).length).toBeGreaterThan(250);
    await waitFor(() => accessLines(h).filter((l) => l.includes('"status":408')).length === 300, 5_000, '300 access lines with 408');
  }, 15_000);

  it('closes a connection that sends nothing, and an idle keep-alive connection', async () => {
    const h = await start({ HTTP_REQUEST_TIMEOUT_SECONDS: '1', HTTP_KEEP_ALIVE_SECONDS: '1' });
    const [silent, idle] = await Promise.all([
      rawExchange(h.url, '', 5_000),
      rawExchange(h.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 5_000),
    ]);
    expect(silent.closedByServer).toBe(true);
    expect(idle.received).toMatch(/^HTTP\/1\.1 200/);
    expect(idle.closedByServer).toBe(true);
  });

  it('caps open connections: past HTTP_MAX_CONNECTIONS new ones are closed at once, and the service keeps answering', async () => {
    const h = await start({ HTTP_MAX_CONNECTIONS: '10' });
    const opened = await openIdleConnections(h.url, 40);
    sockets.push(...opened);
    await waitFor(() => opened.filter((s) => s.destroyed || s.readyState === 'closed').length >= 30, 3_000, 'connections over the cap to be closed');
    expect(opened.filter((s) => !s.destroyed && s.readyState === 'open').length).toBeLessThanOrEqual(10);
    for (const s of opened) s.destroy();
    await waitFor(async () => (await fetch(`${h.url}/healthz`).then((r) => r.status).catch(() => 0)) === 200, 3_000, 'the service to answer');
  });
});

describe('requests that are not questions', () => {
  it('a compressed body is 415 (41502), not "invalid characters"', async () => {
    const h = await start();
    const res = await fetch(`${h.url}/assistant/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ question: 'hi' })),
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ code: 41502, message: expect.any(String) });
  });

  it('a bare OPTIONS gets a catalogued JSON error (405 with Allow); a real preflight still works', async () => {
    const h = await start();
    const bare = await fetch(`${h.url}/assistant/ask`, { method: 'OPTIONS' });
    expect(bare.status).toBe(405);
    expect(bare.headers.get('allow')).toBe('GET, POST, OPTIONS');
    expect(await bare.json()).toEqual({ code: 40501, message: expect.any(String) });
    const preflight = await fetch(`${h.url}/assistant/ask`, {
      method: 'OPTIONS',
      headers: { origin: 'https://www.school.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });
});
