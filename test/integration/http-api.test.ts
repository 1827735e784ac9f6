import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { directConversationKey } from '../../src/engine/conversation-key.js';
import { AssistantError } from '../../src/errors.js';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';
import { ScriptedBackend } from '../helpers/scripted-backend.js';
import { withLabel } from '../helpers/ai-label.js';

const harnesses: HttpHarness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});
async function start(env: Record<string, string> = {}, backend?: ScriptedBackend) {
  const h = await startHttpHarness(env, backend);
  harnesses.push(h);
  return h;
}

/** Sends raw bytes (fetch cannot send invalid UTF-8 or lie about lengths). */
function rawPost(url: string, body: Buffer | string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(`${url}/assistant/ask`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('POST /assistant/ask', () => {
  it('answers with code 0 and a new UUID v4 session, then continues that session', async () => {
    const backend = new ScriptedBackend();
    const h = await start({}, backend);
    const first = await h.ask({ question: '  What is photosynthesis?  ' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      code: 0,
      answer: withLabel('answer 1: What is photosynthesis?'),
      sessionId: expect.stringMatching(UUID),
      aiGenerated: true,
    });
    const second = await h.ask({ question: 'And respiration?', sessionId: first.body.sessionId });
    expect(second.body.sessionId).toBe(first.body.sessionId);
    expect(second.body.answer).toBe(withLabel('answer 2: And respiration?'));
    expect(backend.count('createThread')).toBe(1);
    // the question reaches the assistant trimmed and otherwise exactly as sent
    expect(backend.calls.filter((c) => c.op === 'ask').map((c) => c.text)).toEqual(['What is photosynthesis?', 'And respiration?']);
  });

  it('treats null and "" sessionId as a new session and ignores unknown fields', async () => {
    const h = await start();
    for (const sessionId of [null, '']) {
      const res = await h.ask({ question: 'hi', sessionId, extra: { nested: true }, student: 'x' });
      expect(res.status).toBe(200);
      expect(res.body.sessionId).toMatch(UUID);
    }
  });

  it('gives an unknown or expired sessionId a fresh session with a new id', async () => {
    const h = await start();
    const unknown = '11111111-2222-4333-8444-555555555555';
    const res = await h.ask({ question: 'hi', sessionId: unknown });
    expect(res.status).toBe(200);
    expect(res.body.sessionId).not.toBe(unknown);
    expect(res.body.sessionId).toMatch(UUID);
  });

  it("cannot reach a chat conversation's thread, even with the same id", async () => {
    const backend = new ScriptedBackend();
    const h = await start({}, backend);
    const id = '6f1c2b9e-8d4a-4c1e-9f3a-2b7d5e8c1a00';
    await h.engine.ask({ key: directConversationKey(id), text: 'a student in a DM' });
    const res = await h.ask({ question: 'who am I?', sessionId: id });
    expect(res.status).toBe(200);
    expect(res.body.sessionId).not.toBe(id); // unknown HTTP session: a fresh one
    expect([...backend.threads.values()]).toEqual([['a student in a DM'], ['who am I?']]);
  });

  it('isolates sessions from each other', async () => {
    const backend = new ScriptedBackend();
    const h = await start({}, backend);
    const a = await h.ask({ question: 'a1' });
    const b = await h.ask({ question: 'b1' });
    await h.ask({ question: 'a2', sessionId: a.body.sessionId });
    expect(a.body.sessionId).not.toBe(b.body.sessionId);
    expect([...backend.threads.values()]).toEqual([['a1', 'a2'], ['b1']]);
  });

  it('answers concurrent questions of one session in order', async () => {
    const backend = new ScriptedBackend();
    const h = await start({}, backend);
    const first = await h.ask({ question: 'q0' });
    backend.delayMs = 150;
    const qs = ['q1', 'q2', 'q3', 'q4'];
    // Sent 30 ms apart, so each arrives while the one before is still being answered.
    const answers = await Promise.all(
      qs.map(async (question, i) => {
        await new Promise((r) => setTimeout(r, i * 30));
        return h.ask({ question, sessionId: first.body.sessionId });
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect([...backend.threads.values()][0]).toEqual(['q0', ...qs]);
    expect((backend as ScriptedBackend).maxConcurrent).toBe(1);
  });

  it.each([
    ['malformed JSON', '{"question": "hi"', 400, 40001],
    ['an empty body', '', 400, 40001],
    ['an array', '[1,2]', 400, 40002],
    ['a string', '"hello"', 400, 40002],
    ['a number question', '{"question": 42}', 400, 40002],
    ['an object question', '{"question": {"a": 1}}', 400, 40002],
    ['a missing question', '{"sessionId": null}', 400, 40003],
    ['a whitespace question', '{"question": " \\n\\t "}', 400, 40003],
    ['a question of invisible characters only', '{"question": "\\u200b\\u200d\\u3164\\ufeff\\u115f"}', 400, 40003],
    ['a too long question', JSON.stringify({ question: 'x'.repeat(2001) }), 400, 40004],
    ['a NUL character', '{"question": "a\\u0000b"}', 400, 40006],
    ['a lone surrogate', '{"question": "a\\ud800b"}', 400, 40006],
    ['a numeric sessionId', '{"question": "hi", "sessionId": 5}', 400, 40005],
    ['a non-UUID sessionId', '{"question": "hi", "sessionId": "../../etc/passwd"}', 400, 40005],
    ['a __proto__ key', '{"question": "hi", "__proto__": {"x": 1}}', 400, 40002],
  ])('refuses %s', async (_name, body, status, code) => {
    const backend = new ScriptedBackend();
    const h = await start({}, backend);
    const res = await h.ask(body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ code, message: expect.any(String) });
    // nothing reached the engine, so nothing was written for the refused request
    expect(backend.calls).toEqual([]);
  });

  it('counts Unicode characters, not bytes: 2000 emoji pass, 2001 do not', async () => {
    const h = await start();
    expect((await h.ask({ question: '😀'.repeat(2000) })).status).toBe(200);
    expect((await h.ask({ question: '😀'.repeat(2001) })).body.code).toBe(40004);
  });

  it('returns SQL-looking and path-like questions verbatim', async () => {
    const h = await start();
    const question = "'; DROP TABLE sessions; -- ../../etc/passwd";
    const res = await h.ask({ question });
    expect(res.body.answer).toBe(withLabel(`answer 1: ${question}`));
    expect(await h.storage.ping()).toBe(true);
  });

  it('refuses invalid UTF-8 with 400', async () => {
    const h = await start();
    const body = Buffer.concat([Buffer.from('{"question": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await rawPost(h.url, body, { 'content-type': 'application/json' });
    expect(res).toEqual({ status: 400, body: { code: 40006, message: expect.any(String) } });
  });

  it('refuses a non-JSON content type with 415', async () => {
    const h = await start();
    const res = await rawPost(h.url, 'question=hi', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res).toEqual({ status: 415, body: { code: 41501, message: expect.any(String) } });
    const none = await rawPost(h.url, '{"question":"hi"}', {});
    expect(none.status).toBe(415);
  });

  it('refuses a body over the limit with 413', async () => {
    const h = await start();
    const res = await h.ask({ question: 'hi', padding: 'x'.repeat(100_000) });
    expect(res).toMatchObject({ status: 413, body: { code: 41301, message: expect.any(String) } });
  });

  it('maps a failed run to 502 without upstream text, and a timeout to 504', async () => {
    const backend = new ScriptedBackend();
    const h = await start({ ANSWER_TIMEOUT_SECONDS: '5' }, backend);
    backend.failures.push(new AssistantError('failed', 'lastErrorMsg: internal model quota secret-ish detail'));
    const failed = await h.ask({ question: 'hi' });
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe(50201);
    expect(JSON.stringify(failed.body)).not.toContain('quota');
    backend.hangNext = 1;
    const slow = await h.ask({ question: 'slow' });
    expect(slow).toMatchObject({ status: 504, body: { code: 50401 } });
  }, 15_000);

  it('answers 503 when the session store is unavailable', async () => {
    const h = await start();
    await h.storage.close();
    const res = await h.ask({ question: 'hi' });
    expect(res).toMatchObject({ status: 503, body: { code: 50301 } });
  });

  it('requires a valid API key when ASK_API_KEYS is set (401 otherwise)', async () => {
    const h = await start({ ASK_API_KEYS: 'key-one-abcdef,key-two-abcdef' });
    expect((await h.ask({ question: 'hi' })).status).toBe(401);
    const wrong = await h.ask({ question: 'hi' }, { authorization: 'Bearer key-three-abcdef' });
    expect(wrong).toMatchObject({ status: 401, body: { code: 40101 } });
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    const ok = await h.ask({ question: 'hi' }, { authorization: 'Bearer key-two-abcdef' });
    expect(ok.status).toBe(200);
    expect(h.logs.lines.join('\n')).not.toContain('key-two-abcdef');
  });

  it('rate limits per client with 429 and Retry-After', async () => {
    const h = await start({ RATE_LIMIT: '3/minute' });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await h.ask({ question: `q${i}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.body.code).toBe(42901);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('behind a proxy (TRUST_PROXY=1) limits each client by the address the proxy added, otherwise by the socket', async () => {
    const behind = await start({ RATE_LIMIT: '2/minute', TRUST_PROXY: '1' });
    // The proxy appends the address it saw; what the client wrote itself stays on the left.
    const fromA = { 'x-forwarded-for': '203.0.113.7' };
    const fromAForging = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' };
    const fromB = { 'x-forwarded-for': '203.0.113.8' };
    const statuses = [];
    for (const headers of [fromA, fromAForging, fromAForging, fromB]) statuses.push((await behind.ask({ question: 'hi' }, headers)).status);
    expect(statuses).toEqual([200, 200, 429, 200]); // a forged left-most entry does not buy a new bucket

    const direct = await start({ RATE_LIMIT: '2/minute' });
    const spoofed = [];
    for (const headers of [fromA, fromA, fromA, fromB]) spoofed.push((await direct.ask({ question: 'hi' }, headers)).status);
    expect(spoofed).toEqual([200, 200, 429, 429]); // without TRUST_PROXY the header is not read at all
  });

  it('answers 404 in the catalogue format for unknown paths', async () => {
    const h = await start();
    const res = await fetch(`${h.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 40401, message: expect.any(String) });
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin without an API key', async () => {
    const h = await start({ CORS_ORIGINS: 'https://www.school.example', ASK_API_KEYS: 'key-one-abcdef' });
    const res = await fetch(`${h.url}/assistant/ask`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://www.school.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://www.school.example');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });

  it('gives no allow-origin to an origin not on the list', async () => {
    const h = await start({ CORS_ORIGINS: 'https://www.school.example' });
    const res = await fetch(`${h.url}/assistant/ask`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows any origin by default', async () => {
    const h = await start();
    const res = await fetch(`${h.url}/assistant/ask`, {
      method: 'POST',
      headers: { origin: 'https://anywhere.example', 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'hi' }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('GET /healthz', () => {
  it('reports storage and stream state', async () => {
    const h = await start();
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', storage: 'ok', stream: { state: 'disabled' } });
  });

  it('reports degraded storage with 503', async () => {
    const h = await start();
    await h.storage.close();
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', storage: 'unreachable' });
  });
});
