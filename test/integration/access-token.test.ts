import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createAccessTokenCache } from '../../src/dingtalk/access-token.js';
import { DingTalkApiError, DingTalkNetworkError } from '../../src/dingtalk/dingtalk-api.js';
import { createDingTalkApi, type DingTalkHttpClient } from '../../src/dingtalk/dingtalk-http-client.js';
import { startFakeDingTalk, type FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { captureLogger, type CapturedLogs } from '../helpers/capture-logs.js';

function configFor(fake: FakeDingTalk, overrides: { appSecret?: string; timeoutMs?: number } = {}): Config {
  const base = loadConfig({
    DING_APP_KEY: fake.tokens.appKey,
    DING_APP_SECRET: overrides.appSecret ?? fake.tokens.appSecret,
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    AI_ASSISTANT_ID: fake.assistant.assistantId,
    DINGTALK_API_BASE: fake.baseUrl,
  });
  return { ...base, dingtalk: { ...base.dingtalk, timeoutMs: overrides.timeoutMs ?? 2_000 } };
}

describe('access token cache', () => {
  let fake: FakeDingTalk;
  let logs: CapturedLogs;
  let client: DingTalkHttpClient | undefined;

  beforeEach(async () => {
    fake = await startFakeDingTalk();
    logs = captureLogger();
  });
  afterEach(async () => {
    client?.close();
    client = undefined;
    await fake.close();
  });

  const newClient = (config = configFor(fake)) => {
    client = createDingTalkApi({ config, logger: logs.logger, redactor: logs.redactor });
    return client;
  };
  const createThread = (api: DingTalkHttpClient) =>
    api.request<{ id: string }>({ method: 'POST', path: '/v1.0/assistant/threads', body: {} });

  it('100 concurrent callers cause one token request', async () => {
    const api = newClient();
    const ids = await Promise.all(Array.from({ length: 100 }, () => createThread(api)));
    expect(new Set(ids.map((t) => t.id)).size).toBe(100);
    expect(fake.tokens.calls).toBe(1);
    expect(fake.server.count('POST', '/v1.0/oauth2/accessToken')).toBe(1);
  });

  it('refreshes ahead of expiry without making callers wait', async () => {
    let clock = 1_000_000;
    const cache = createAccessTokenCache({ config: configFor(fake), logger: logs.logger, redactor: logs.redactor, now: () => clock });
    const first = await cache.get();
    clock += (7200 - 301) * 1000; // just before the 5-minute refresh window
    expect(await cache.get()).toBe(first);
    expect(fake.tokens.calls).toBe(1);
    clock += 2_000; // inside the window: answer at once, refresh in the background
    expect(await cache.get()).toBe(first);
    await expect.poll(() => fake.tokens.calls).toBe(2);
    clock += 10_000; // the refreshed token is used from now on, no further calls
    await cache.get();
    expect(fake.tokens.calls).toBe(2);
  });

  it('refreshes at half-life when tokens are short-lived, and waits once expired', async () => {
    fake.tokens.expireIn = 60;
    let clock = 0;
    const cache = createAccessTokenCache({ config: configFor(fake), logger: logs.logger, redactor: logs.redactor, now: () => clock });
    await cache.get();
    clock = 29_000;
    await cache.get();
    expect(fake.tokens.calls).toBe(1);
    clock = 31_000;
    await cache.get();
    await expect.poll(() => fake.tokens.calls).toBe(2);
    clock = 200_000; // long expired: the caller waits for a fresh token
    const token = await cache.get();
    expect(fake.tokens.calls).toBe(3);
    expect(fake.tokens.isValid(token)).toBe(true);
  });

  it('a token revoked mid-flight causes one refresh and one retry per call', async () => {
    const api = newClient();
    await createThread(api);
    fake.tokens.revokeAll();
    const before = fake.assistant.calls.createThread;
    await Promise.all(Array.from({ length: 10 }, () => createThread(api)));
    expect(fake.tokens.calls).toBe(2);
    expect(fake.assistant.calls.createThread - before).toBe(20); // each: the rejected try + one retry
    expect(fake.tokens.issued.length).toBe(2);
  });

  it('gives up after one retry when the fresh token is rejected too', async () => {
    const api = newClient();
    await createThread(api);
    fake.server.inject({
      method: 'POST',
      path: '/v1.0/assistant/threads',
      times: 2,
      respond: { status: 400, body: { code: 'InvalidAuthentication', requestid: 'r', message: '不合法的access_token' } },
    });
    await expect(createThread(api)).rejects.toMatchObject({ status: 400, code: 'InvalidAuthentication' });
    expect(fake.tokens.calls).toBe(2);
  });

  it('wrong credentials fail with the DingTalk error', async () => {
    const api = newClient(configFor(fake, { appSecret: 'wrong-secret-value' }));
    const err = await createThread(api).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DingTalkApiError);
    expect(err).toMatchObject({ status: 400, code: 'invalidClientIdOrSecret' });
  });

  it('a hanging token endpoint times out', async () => {
    fake.server.inject({ method: 'POST', path: '/v1.0/oauth2/accessToken', hang: true, times: 1 });
    const cache = createAccessTokenCache({ config: configFor(fake, { timeoutMs: 200 }), logger: logs.logger, redactor: logs.redactor });
    const err = await cache.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DingTalkNetworkError);
    expect((err as DingTalkNetworkError).timedOut).toBe(true);
    expect(await cache.get()).toMatch(/^[0-9a-f]{32}$/); // the next call works
  });

  it('never logs the secret or a token', async () => {
    const api = newClient();
    await createThread(api);
    fake.tokens.revokeAll();
    await createThread(api);
    // Make the token show up in something that gets logged.
    logs.logger.warn('oops', { err: new Error(`leaked ${fake.tokens.issued[0]} and ${fake.tokens.appSecret}`) });
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(fake.tokens.appSecret);
    for (const token of fake.tokens.issued) expect(text).not.toContain(token);
    expect(text).toContain('[REDACTED]');
  });
});
