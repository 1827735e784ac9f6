import { getEventListeners, setMaxListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { directConversationKey } from '../../src/engine/conversation-key.js';
import { BACKEND_FIXTURES, DINGTALK_ASSISTANT_FIXTURE } from '../helpers/backend-fixtures.js';
import { startStreamHarness, type StreamHarness } from '../helpers/stream-harness.js';

const open: StreamHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

describe('the access token wait honours the question deadline', () => {
  it('a hung token endpoint gives 504 at ANSWER_TIMEOUT_SECONDS, not at DINGTALK_TIMEOUT_SECONDS', async () => {
    const h = await startStreamHarness({
      model: DINGTALK_ASSISTANT_FIXTURE,
      env: { STREAM_ENABLED: 'false', ANSWER_TIMEOUT_SECONDS: '5', DINGTALK_TIMEOUT_SECONDS: '60' },
      // From before the first token is fetched: every token request hangs.
      beforeBoot: async ({ fake }) => fake.server.inject({ method: 'POST', path: '/v1.0/oauth2/accessToken', hang: true }),
    });
    open.push(h);
    const res = await fetch(`${h.app.url}/assistant/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'is anyone there?' }),
      // Well before the 60 s a token request may take on its own.
      signal: AbortSignal.timeout(12_000),
    });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: 50401 });
  }, 20_000);
});

describe('a stop signal shared by every question', () => {
  for (const fixture of BACKEND_FIXTURES) {
    it(`keeps no listener per question once they are done (${fixture.name}: answered, failed, timed out, queued for a slot)`, async () => {
      const h = await startStreamHarness({ model: fixture, env: { STREAM_ENABLED: 'false', MAX_CONCURRENT_RUNS: '2' } });
      open.push(h);
      await h.app.readiness.settled(); // its own model check must not take the scripted failures
      const stop = new AbortController();
      setMaxListeners(20, stop.signal); // fourteen in flight at once here is on purpose
      const ask = (i: number, deadlineMs = 5_000) =>
        h.engine
          .ask({ key: directConversationKey(`c${i}`), text: `q${i}`, requestId: `r${i}`, signal: stop.signal, deadline: Date.now() + deadlineMs })
          .then(
            () => 'answered',
            () => 'not answered',
          );
      h.model!.failNext();
      h.model!.hangNext();
      const first = await Promise.all([ask(0), ask(1, 600)]);
      // Twelve at once for two slots: most wait in line with a listener on the signal.
      const rest = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(i + 2)));
      expect(first).toEqual(['not answered', 'not answered']);
      expect(rest.every((r) => r === 'answered')).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    }, 20_000);
  }
});
