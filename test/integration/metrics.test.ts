import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { AssistantError } from '../../src/errors.js';
import { metricNames, sampleValue } from '../helpers/prometheus-text.js';
import { startStreamHarness, waitFor, type HarnessOptions, type StreamHarness } from '../helpers/stream-harness.js';

/**
 * `GET /metrics`: Prometheus text through prom-client, counted exactly (one question, one
 * increment), for both doors of the service, plus the DingTalk quota meter and the Stream.
 */
const open: StreamHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function harness(options?: HarnessOptions): Promise<StreamHarness> {
  const h = await startStreamHarness(options);
  open.push(h);
  return h;
}

async function scrape(h: StreamHarness, token?: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${h.app.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

async function ask(h: StreamHarness, body: unknown): Promise<number> {
  const res = await fetch(`${h.app.url}/assistant/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const questions = (text: string, transport: string, outcome: string) => sampleValue(text, 'bridge_questions_total', { transport, outcome });

describe('GET /metrics', () => {
  it('counts three answered HTTP questions as exactly three, and each failure once by its outcome', async () => {
    const h = await harness();
    const before = (await scrape(h)).text;
    expect(questions(before, 'http', 'answered')).toBe(0);
    for (const q of ['one', 'two', 'three']) expect(await ask(h, { question: q })).toBe(200);
    const after = await scrape(h);
    expect(after.status).toBe(200);
    expect(after.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(questions(after.text, 'http', 'answered')).toBe(3);
    expect(sampleValue(after.text, 'bridge_answer_seconds_count', { transport: 'http', backend: 'dingtalk-assistant' })).toBe(3);
    expect(sampleValue(after.text, 'bridge_backend_requests_total', { backend: 'dingtalk-assistant', outcome: 'answered' })).toBe(3);

    h.backend.failures.push(new AssistantError('timeout', 'run too slow'), new AssistantError('blocked', 'moderation'));
    expect(await ask(h, { question: 'slow' })).toBe(504);
    expect(await ask(h, { question: 'rude' })).toBe(422);
    expect(await ask(h, '{not json')).toBe(400);
    const text = (await scrape(h)).text;
    expect(questions(text, 'http', 'answered')).toBe(3);
    expect(questions(text, 'http', 'timeout')).toBe(1);
    expect(questions(text, 'http', 'blocked')).toBe(1);
    expect(questions(text, 'http', 'invalid')).toBe(1);
    expect(sampleValue(text, 'bridge_answer_seconds_count', { transport: 'http' })).toBe(3); // answers only
    expect(sampleValue(text, 'bridge_questions_total', { transport: 'chat' })).toBe(0);
  });

  it('counts three answered chat questions as exactly three; commands are not questions', async () => {
    const h = await harness();
    await h.app.readiness.settled(); // its permission probes are DingTalk calls too
    for (const text of ['光合作用？', 'And respiration?', '/help', 'Why is the sky blue?']) {
      h.gateway.push(h.robot.robotMessage({ conversationId: 'cidMetrics', text }));
    }
    await waitFor(() => h.robot.replies.length === 4, 10_000, 'four replies');
    h.backend.failures.push(new AssistantError('failed', 'run failed'));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidMetrics2', text: 'this one fails' }));
    await waitFor(() => h.robot.replies.length === 5, 10_000, 'the failure sentence');
    expect(h.robot.replies[4]!.text).toBe(CHAT_TEXTS.failed);
    // A question is counted once its reply went out and the ledger heard of it, just after the
    // fake saw the reply: wait for the count, then check nothing was counted twice.
    let text = '';
    await waitFor(async () => sampleValue((text = (await scrape(h)).text), 'bridge_questions_total', { transport: 'chat' }) >= 4, 10_000, 'four counted questions');
    expect(questions(text, 'chat', 'answered')).toBe(3);
    expect(questions(text, 'chat', 'failed')).toBe(1);
    expect(sampleValue(text, 'bridge_questions_total', { transport: 'chat' })).toBe(4);
    expect(sampleValue(text, 'bridge_answer_seconds_count', { transport: 'chat', backend: 'dingtalk-assistant' })).toBe(3);
    // The quota meter: every robot call the fake received is one `send` (the five webhook replies
    // and the readiness probe of the send permission), the Stream registration one `stream_gateway`.
    const robotCalls = h.server.requests.filter((r) => r.path.startsWith('/robot/') || r.path.startsWith('/v1.0/robot/')).length;
    expect(robotCalls).toBeGreaterThanOrEqual(5);
    expect(sampleValue(text, 'bridge_dingtalk_api_calls_total', { api: 'send' })).toBe(robotCalls);
    expect(sampleValue(text, 'bridge_dingtalk_api_calls_total', { api: 'stream_gateway' })).toBe(1);
    expect(sampleValue(text, 'bridge_stream_connected')).toBe(1);
  });

  it('counts a Stream reconnection once, and every gateway registration', async () => {
    const h = await harness();
    expect(sampleValue((await scrape(h)).text, 'bridge_stream_reconnects_total')).toBe(0);
    h.gateway.dropSocket();
    await waitFor(() => h.gateway.connections === 2 && h.app.stream.status().state === 'connected', 10_000, 'the reconnection');
    const text = (await scrape(h)).text;
    expect(sampleValue(text, 'bridge_stream_reconnects_total')).toBe(1);
    expect(sampleValue(text, 'bridge_dingtalk_api_calls_total', { api: 'stream_gateway' })).toBe(2);
  });

  it('has every metric of the issue, and the default process metrics', async () => {
    const h = await harness();
    const names = metricNames((await scrape(h)).text);
    for (const name of [
      'bridge_questions_total',
      'bridge_answer_seconds',
      'bridge_backend_requests_total',
      'bridge_dingtalk_api_calls_total',
      'bridge_stream_connected',
      'bridge_stream_reconnects_total',
      'bridge_conversations_active',
      'bridge_queue_waiting',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('asks for METRICS_TOKEN as a bearer token when it is set', async () => {
    const token = 'scrape-token-8c1f2e7d9a';
    const h = await harness({ env: { METRICS_TOKEN: token } });
    const none = await scrape(h);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toMatchObject({ code: 40101 });
    expect((await scrape(h, `${token}x`)).status).toBe(401);
    expect((await scrape(h, token.slice(0, -1))).status).toBe(401);
    const ok = await scrape(h, token);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('bridge_questions_total');
    expect(h.logs.lines.join('\n')).not.toContain(token);
  });

  it('is not served with METRICS_ENABLED=false', async () => {
    const h = await harness({ env: { METRICS_ENABLED: 'false' } });
    const res = await scrape(h);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text)).toMatchObject({ code: 40401 });
  });
});
