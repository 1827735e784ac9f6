import { describe, expect, it } from 'vitest';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { spawnService, tempStorageUrl, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * Issue 4, security: "Secrets never appear in logs, error messages or /healthz". The whole
 * service runs as a process with distinctive secret values, at LOG_LEVEL=debug; a chat
 * conversation, HTTP asks with a right and a wrong key, a revoked token and a start with a
 * wrong app secret happen; then every stdout/stderr line and every response body is searched.
 */
const APP_SECRET = 'AppSecret-Zq7Vx2Lm9Kp4-unique-8e1d';
const WRONG_APP_SECRET = 'AppSecret-Wr0ngWr0ng-unique-3c5a';
const API_KEYS = ['AskKey-Alpha-7f1e2d3c4b5a', 'AskKey-Bravo-19a8b7c6d5e4'];
const WRONG_API_KEY = 'AskKey-Wrong-0a0b0c0d0e0f';

describe('secrets in logs, error messages and /healthz', () => {
  it('never shows the app secret, an API key, an access token or a Stream ticket', async () => {
    const fake = await startFakeDingTalk({ token: { appSecret: APP_SECRET }, assistant: { runDurationMs: 50 } });
    const base = {
      DING_APP_KEY: fake.tokens.appKey,
      ASSISTANT_BACKEND: 'dingtalk-assistant',
      AI_ASSISTANT_ID: fake.assistant.assistantId,
      DINGTALK_API_BASE: fake.baseUrl,
      DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
      DINGTALK_TIMEOUT_SECONDS: '3',
      HOST: '127.0.0.1',
      PORT: '0',
      THINKING_NOTICE_SECONDS: '0',
      ASK_API_KEYS: API_KEYS.join(','),
      LOG_LEVEL: 'debug',
    };
    const processes: ServiceProcess[] = [];
    const bodies: string[] = [];
    const call = async (url: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${url}${path}`, init);
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, text };
    };
    const ask = (url: string, key: string | undefined, question: string) =>
      call(url, '/assistant/ask', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ question }),
      });
    try {
      // A healthy service: chat over Stream, HTTP with right and wrong keys, /healthz.
      const svc = await spawnService({ ...base, DING_APP_SECRET: APP_SECRET, SESSION_STORAGE: tempStorageUrl() });
      processes.push(svc);
      await waitFor(() => fake.gateway.socketCount === 1, 10_000, 'the Stream connection');
      fake.gateway.push(fake.robot.robotMessage({ conversationId: 'cidSecret', group: true, staffId: 'stu1', text: ' 什么是密钥？' }));
      await waitFor(() => fake.robot.replies.length === 1, 10_000, 'the chat answer');
      expect(fake.robot.replies[0]!.text).toContain('答：什么是密钥？');

      expect((await ask(svc.url, API_KEYS[1], 'What is a key?')).status).toBe(200);
      expect((await ask(svc.url, WRONG_API_KEY, 'Let me in')).status).toBe(401);
      expect((await ask(svc.url, `${API_KEYS[0]}x`, 'Almost')).status).toBe(401);
      expect((await ask(svc.url, undefined, 'No key')).status).toBe(401);

      // The token revoked mid-conversation: the service refreshes (a second token is issued).
      fake.tokens.revokeAll();
      expect((await ask(svc.url, API_KEYS[0], 'After the revocation')).status).toBe(200);
      fake.gateway.dropSocket(); // a second Stream ticket
      await waitFor(() => fake.gateway.connections === 2 && fake.gateway.socketCount === 1, 10_000, 'the reconnection');
      expect((await call(svc.url, '/healthz')).status).toBe(200);
      expect(await svc.stop('SIGTERM')).toBe(0);

      // An auth failure: the app secret is wrong (gateway and token endpoint refuse it).
      const bad = await spawnService({ ...base, DING_APP_SECRET: WRONG_APP_SECRET, SESSION_STORAGE: tempStorageUrl() });
      processes.push(bad);
      const refused = await ask(bad.url, API_KEYS[0], 'Does this work?');
      expect(refused.status).toBeGreaterThanOrEqual(500);
      await waitFor(() => bad.stdout.some((l) => l.includes('check DING_APP_KEY / DING_APP_SECRET')), 10_000, 'the hint');
      await call(bad.url, '/healthz');
      expect(await bad.stop('SIGTERM')).toBe(0);

      const secrets = [
        APP_SECRET,
        WRONG_APP_SECRET,
        ...API_KEYS,
        WRONG_API_KEY,
        ...new Set(fake.tokens.issued),
        ...fake.gateway.issuedTickets,
      ];
      expect(new Set(fake.tokens.issued).size).toBeGreaterThanOrEqual(2);
      expect(fake.gateway.issuedTickets.length).toBeGreaterThanOrEqual(2);
      const lines = processes.flatMap((p) => [...p.stdout, ...p.stderr]);
      expect(lines.length).toBeGreaterThan(20);
      expect(lines.some((l) => l.includes('"level":"debug"'))).toBe(true);
      const leaks = [...lines, ...bodies].flatMap((line) =>
        secrets.filter((s) => line.includes(s)).map((s) => `${s.slice(0, 8)}… in ${line.slice(0, 160)}`),
      );
      expect(leaks).toEqual([]);
    } finally {
      await Promise.all(processes.map((p) => p.stop('SIGKILL', 1_000)));
      await fake.close();
    }
  }, 60_000);
});
