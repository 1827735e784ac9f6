import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { OPENAI_FIXTURE } from '../helpers/backend-fixtures.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';

const open: StreamHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** The real service (HTTP only) over the OpenAI backend and its wire fake. */
async function start(env: Record<string, string> = {}) {
  const h = await startStreamHarness({ model: OPENAI_FIXTURE, env: { STREAM_ENABLED: 'false', ...env } });
  open.push(h);
  return h;
}

/** Calls to the fake model service as they arrive, and whether the service hung up on them. */
function watchModelCalls(h: StreamHarness): Array<{ closed: boolean }> {
  const calls: Array<{ closed: boolean }> = [];
  h.fake.server.httpServer.on('request', (req: http.IncomingMessage) => {
    if (!req.url?.includes('/chat/completions')) return;
    const call = { closed: false };
    calls.push(call);
    req.socket.once('close', () => (call.closed = true));
  });
  return calls;
}

function askAndLeave(url: string, question: string): { left: Promise<unknown>; leave: () => void } {
  const controller = new AbortController();
  const left = fetch(`${url}/assistant/ask`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ question }),
    signal: controller.signal,
  }).catch((err: unknown) => err);
  return { left, leave: () => controller.abort() };
}

async function auditOutcomes(h: StreamHarness): Promise<string[]> {
  const outcomes: string[] = [];
  for await (const r of h.storage.policy.audit.between(0, Number.MAX_SAFE_INTEGER)) outcomes.push(r.outcome);
  return outcomes;
}

const accessLines = (h: StreamHarness) =>
  h.logs.records().filter((r) => r.message === 'http request' && r.url === '/assistant/ask') as Array<Record<string, unknown>>;

describe('an HTTP caller that goes away', () => {
  it('has its model call cancelled at once, and its access line says 499 with its address and duration', async () => {
    const h = await start();
    await h.app.readiness.settled();
    const calls = watchModelCalls(h);
    h.model!.hangNext();
    const asker = askAndLeave(h.app.url, 'a question whose caller leaves');
    await waitFor(() => calls.length === 1, 5_000, 'the question to reach the model');
    asker.leave();
    await asker.left;
    // The model service sees the call end well before ANSWER_TIMEOUT_SECONDS (30 s).
    await waitFor(() => calls[0]!.closed, 5_000, 'the model call to be cancelled');
    await waitFor(() => accessLines(h).length === 1, 5_000, 'the access line');
    expect(accessLines(h)[0]).toMatchObject({ status: 499, ip: '127.0.0.1', durationMs: expect.any(Number) });
    // The school's report counts it apart from the service's own failures.
    await waitFor(async () => (await auditOutcomes(h)).length === 1, 5_000, 'the audit record');
    expect(await auditOutcomes(h)).toEqual(['cancelled']);
  });

  it('is dropped before its run when it leaves while waiting for a run slot', async () => {
    const h = await start({ MAX_CONCURRENT_RUNS: '1' });
    await h.app.readiness.settled();
    const calls = watchModelCalls(h);
    h.model!.hangNext();
    const first = askAndLeave(h.app.url, 'holds the only run slot');
    await waitFor(() => calls.length === 1, 5_000, 'the first question to reach the model');
    const second = askAndLeave(h.app.url, 'waits for the slot, then leaves');
    await waitFor(() => h.engine.load().waiting === 1, 5_000, 'the second question to wait for a slot');
    second.leave();
    await second.left;
    // The slot frees (the first caller leaves too): nothing of the second may reach the model.
    first.leave();
    await first.left;
    await waitFor(() => accessLines(h).length === 2, 5_000, 'both access lines');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.model!.questionsReceived()).toEqual(['holds the only run slot']);
    expect(accessLines(h).map((l) => l.status)).toEqual([499, 499]);
    expect(h.engine.load()).toMatchObject({ running: 0, waiting: 0 });
  });
});
