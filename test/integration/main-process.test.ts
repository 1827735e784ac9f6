import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CONFIG_ERROR } from '../../src/exit-codes.js';
import { startFakeDingTalk } from '../fakes/fake-dingtalk.js';
import { fakeDingTalkEnv, spawnService, tempStorageUrl } from '../helpers/service-process.js';

describe('the service as a process', () => {
  it('refuses to start with a bad configuration: one message naming every problem, exit 78 (EX_CONFIG), no stack', async () => {
    const svc = await spawnService({ PORT: 'eighty', SESSION_STORAGE: tempStorageUrl() }, { waitReady: false });
    const code = await svc.exited;
    expect(code).toBe(EXIT_CONFIG_ERROR);
    expect(code).toBe(78);
    const text = svc.stderr.join('\n');
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL', 'DING_APP_KEY', 'DING_APP_SECRET', 'PORT']) expect(text).toContain(name);
    expect(text).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('a LOG_FILE that cannot be created is a configuration error too (exit 78, the variable named)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'logfile-'));
    writeFileSync(path.join(dir, 'a-file'), 'not a folder');
    const svc = await spawnService(
      {
        ASSISTANT_BACKEND: 'dingtalk-assistant',
        DING_APP_KEY: 'k',
        DING_APP_SECRET: 'secret-value',
        AI_ASSISTANT_ID: 'a'.repeat(32),
        STREAM_ENABLED: 'false',
        SESSION_STORAGE: tempStorageUrl(),
        LOG_FILE: path.join(dir, 'a-file', 'logs', 'bridge.log'),
      },
      { waitReady: false },
    );
    expect(await svc.exited).toBe(EXIT_CONFIG_ERROR);
    expect(svc.stderr.join('\n')).toContain('LOG_FILE cannot be written');
  }, 30_000);
});

describe('the service end to end against a fake DingTalk', () => {
  it('answers /assistant/ask, continues the thread, stops gracefully, and keeps the session after a restart', async () => {
    const fake = await startFakeDingTalk({ assistant: { runDurationMs: 50 } });
    const env = fakeDingTalkEnv(fake, { STREAM_ENABLED: 'false' });
    const ask = async (url: string, body: unknown) => {
      const res = await fetch(`${url}/assistant/ask`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { code: number; answer: string; sessionId: string } };
    };
    try {
      const first = await spawnService(env);
      const a1 = await ask(first.url, { question: '什么是光合作用？' });
      expect(a1.status).toBe(200);
      expect(a1.body.code).toBe(0);
      const a2 = await ask(first.url, { question: 'And respiration?', sessionId: a1.body.sessionId });
      expect(a2.body.sessionId).toBe(a1.body.sessionId);
      expect(fake.assistant.threads.size).toBe(1);
      expect(await first.stop('SIGTERM')).toBe(0);
      expect(first.stdout.join('\n')).toContain('"message":"stopped"');

      const second = await spawnService(env);
      const a3 = await ask(second.url, { question: 'after restart', sessionId: a1.body.sessionId });
      expect(a3.body.sessionId).toBe(a1.body.sessionId);
      expect(fake.assistant.threads.size).toBe(1);
      const [thread] = [...fake.assistant.threads.keys()];
      expect(fake.assistant.userMessages(thread!)).toEqual(['什么是光合作用？', 'And respiration?', 'after restart']);
      expect(await second.stop('SIGINT')).toBe(0);
      const logs = [...first.stdout, ...second.stdout].join('\n');
      expect(logs).not.toContain(fake.tokens.appSecret);
    } finally {
      await fake.close();
    }
  }, 60_000);
});
