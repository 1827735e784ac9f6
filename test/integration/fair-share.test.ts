import { afterEach, describe, expect, it } from 'vitest';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';

const open: StreamHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

describe('the chat bot and the HTTP API share the model service fairly', () => {
  it('a burst of HTTP questions leaves a student\'s chat question its reserved run', async () => {
    // 4 runs: 2 kept for chat, 1 for HTTP, 1 shared; every answer takes 2 s.
    const h = await startStreamHarness({
      env: { MAX_CONCURRENT_RUNS: '4', CHAT_RUN_SHARE: '50', HTTP_RUN_SHARE: '25', ANSWER_TIMEOUT_SECONDS: '5', RATE_LIMIT: '1000/minute' },
    });
    open.push(h);
    h.backend.delayMs = 2_000;
    const burst = Array.from({ length: 12 }, (_, i) =>
      fetch(`${h.app.url}/assistant/ask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question: `http ${i}` }),
      }).then((r) => r.status),
    );
    await waitFor(() => h.engine.load().waiting >= 10, 5_000, 'the HTTP burst to queue for runs');
    expect(h.engine.load().running).toBe(2); // what HTTP may hold while chat is idle
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidFair', text: 'a student asks' }));
    await waitFor(() => h.robot.replies.length === 1, 5_000, 'the chat answer');
    expect(h.robot.replies[0]!.text).toMatch(/answer \d+: a student asks/);
    const statuses = await Promise.all(burst);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
  }, 20_000);
});
