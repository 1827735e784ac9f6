import type { FakeDingTalk } from '../../test/fakes/fake-dingtalk.js';

/**
 * The fake assistant's own time for one streamed run, measured by a minimal client (no bridge):
 * from sending create-run to reading `thread.run.completed`. What it exceeds T by is the fake's
 * share of the overhead (it writes each SSE event in 2–3 pieces with a 1 ms pause between).
 */
export async function fakeStreamRunMs(fake: FakeDingTalk): Promise<number> {
  const base = fake.baseUrl;
  const tokenRes = await fetch(`${base}/v1.0/oauth2/accessToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appKey: fake.tokens.appKey, appSecret: fake.tokens.appSecret }),
  });
  const { accessToken } = (await tokenRes.json()) as { accessToken: string };
  const headers = { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': accessToken };
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const thread = (await (await post('/v1.0/assistant/threads', {})).json()) as { id: string };
  await (await post(`/v1.0/assistant/threads/${thread.id}/messages`, { role: 'user', content: 'baseline' })).text();
  const started = performance.now();
  const res = await post(`/v1.0/assistant/threads/${thread.id}/runs`, { assistantId: fake.assistant.assistantId, stream: true });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < 10_000; i++) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.includes('event:thread.run.completed') && /event:thread\.run\.completed\ndata:[^\n]*\n/.test(text)) break;
  }
  const elapsed = performance.now() - started;
  await reader.cancel().catch(() => undefined);
  return elapsed;
}
