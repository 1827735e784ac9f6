import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { startFakeDingTalk, type FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { permissionDenied } from '../fakes/fake-permissions.js';
import { captureLogger, type CapturedLogs } from '../helpers/capture-logs.js';
import { ScriptedBackend } from '../helpers/scripted-backend.js';
import { spawnService, tempStorageUrl, type ServiceProcess } from '../helpers/service-process.js';
import { FAST_TUNING, waitFor } from '../helpers/stream-harness.js';

interface Health {
  status: string;
  storage: string;
  stream: { state: string };
  checks: Record<string, { status: string; reason?: string }>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The real service from buildApp (real DingTalk assistant backend) against a fake DingTalk. */
async function startService(env: Record<string, string> = {}, options: { fake?: FakeDingTalk; scripted?: boolean } = {}) {
  const fake = options.fake ?? (await startFakeDingTalk());
  if (!options.fake) cleanups.push(() => fake.close());
  const config = loadConfig({
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    DING_APP_KEY: fake.tokens.appKey,
    DING_APP_SECRET: fake.tokens.appSecret,
    AI_ASSISTANT_ID: fake.assistant.assistantId,
    DINGTALK_API_BASE: fake.baseUrl,
    DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
    DINGTALK_TIMEOUT_SECONDS: '2',
    SESSION_STORAGE: `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'ready-')), 's.sqlite')}`,
    HOST: '127.0.0.1',
    PORT: '0',
    ...env,
  });
  const logs = captureLogger();
  logs.redactor.add(config.dingtalk.appSecret);
  const app = await buildApp(config, {
    logger: logs.logger,
    redactor: logs.redactor,
    streamTuning: FAST_TUNING,
    healthTuning: { retryBaseMs: 100, retryMaxMs: 400 },
    ...(options.scripted ? { backend: new ScriptedBackend().backend(logs.logger) } : {}),
  });
  cleanups.push(() => app.stop());
  await app.start();
  await app.readiness.settled(10_000);
  return { fake, app, logs };
}

async function health(app: App): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${app.url}/healthz`);
  return { code: res.status, body: (await res.json()) as Health };
}

const failingLines = (logs: CapturedLogs) => logs.records().filter((r) => r.message === 'dependency check failing');

describe('/healthz checks in the running service', () => {
  it('a correct setup: every dependency ok, and the probes sent no message and left no thread or run behind', async () => {
    const { fake, app, logs } = await startService();
    await waitFor(() => app.stream.status().state === 'connected');
    const { code, body } = await health(app);
    expect(code).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.checks).toEqual({ storage: { status: 'ok' }, dingtalk: { status: 'ok' }, backend: { status: 'ok' }, stream: { status: 'ok' } });
    expect(body).toMatchObject({ storage: 'ok', stream: { state: 'connected' } }); // the old fields stay
    expect(fake.robot.replies).toEqual([]);
    expect(fake.server.count('POST', '/v1.0/robot/oToMessages/batchSend')).toBe(1);
    expect(fake.assistant.calls.createRun).toBe(1);
    expect(fake.assistant.threads.size).toBe(0);
    expect(failingLines(logs)).toEqual([]);
    expect(logs.records().filter((r) => r.message === 'dependency check passed').map((r) => r.check)).toEqual(
      expect.arrayContaining(['storage', 'dingtalk-token', 'robot-send', 'backend']),
    );
  });

  it('a missing robot send permission: 503 naming qyapi_robot_sendmsg, logged once; fixed, it recovers on the next retry', async () => {
    const fake = await startFakeDingTalk();
    cleanups.push(() => fake.close());
    fake.server.inject({ method: 'POST', path: '/v1.0/robot/oToMessages/batchSend', respond: permissionDenied('qyapi_robot_sendmsg') });
    const { app, logs } = await startService({}, { fake });
    const { code, body } = await health(app);
    expect(code).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.checks.dingtalk).toEqual({ status: 'failing', reason: expect.stringContaining('qyapi_robot_sendmsg') });
    expect(body.checks.stream).toEqual({ status: 'ok' });
    await waitFor(() => fake.server.count('POST', '/v1.0/robot/oToMessages/batchSend') >= 3, 5_000, 'two retries');
    expect(failingLines(logs).map((r) => r.check)).toEqual(['robot-send']); // the same reason is not logged again

    fake.server.clearInjections();
    await waitFor(async () => (await health(app)).code === 200, 5_000, 'the recovery');
    expect(logs.records().some((r) => r.message === 'dependency check recovered' && r.check === 'robot-send')).toBe(true);
  });

  it('an assistant id DingTalk does not know, and one that is not an id at all, both name AI_ASSISTANT_ID', async () => {
    const unknown = await startService({ AI_ASSISTANT_ID: 'f'.repeat(32), STREAM_ENABLED: 'false' });
    const a = await health(unknown.app);
    expect(a.code).toBe(503);
    expect(a.body.checks.backend!.reason).toMatch(/AI_ASSISTANT_ID/);
    expect(a.body.checks.backend!.reason).toMatch(/run\.assistantparam\.error/);
    expect(a.body.checks).not.toHaveProperty('stream'); // STREAM_ENABLED=false: not applicable
    expect(a.body.checks.dingtalk).toEqual({ status: 'ok' }); // the backend needs the token

    const malformed = await startService({ AI_ASSISTANT_ID: 'my-assistant', STREAM_ENABLED: 'false' });
    const b = await health(malformed.app);
    expect(b.body.checks.backend).toEqual({ status: 'failing', reason: expect.stringMatching(/AI_ASSISTANT_ID/) });
    expect(malformed.fake.server.count('POST', '/v1.0/assistant/threads')).toBe(0); // refused without a call
  });

  it('an unreachable DingTalk: dingtalk and stream failing with the address, backend failing too', async () => {
    const closedPort = await freePort();
    const base = `http://127.0.0.1:${closedPort}`;
    const { app, logs } = await startService({ DINGTALK_API_BASE: base });
    const { code, body } = await health(app);
    expect(code).toBe(503);
    expect(body.checks.dingtalk!.reason).toContain(`unreachable at ${base}`);
    expect(body.checks.stream).toEqual({ status: 'failing', reason: expect.stringContaining('unreachable') });
    expect(body.checks.backend!.status).toBe('failing');
    expect(failingLines(logs).some((r) => String(r.reason).includes('DINGTALK_API_BASE') || String(r.fix).includes('DINGTALK_API_BASE'))).toBe(true);
  });

  it('leaves out what does not apply: an HTTP-only service with a backend that has no check reports storage only', async () => {
    const { app, fake } = await startService({ STREAM_ENABLED: 'false', ASSISTANT_BACKEND: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'sk-x', OPENAI_MODEL: 'm' }, { scripted: true });
    const { code, body } = await health(app);
    expect(code).toBe(200);
    expect(body.checks).toEqual({ storage: { status: 'ok' } });
    expect(fake.tokens.calls).toBe(0);
  });

  it('a store that stops answering turns storage failing', async () => {
    const { app } = await startService({ STREAM_ENABLED: 'false' });
    await app.storage.close();
    const { code, body } = await health(app);
    expect(code).toBe(503);
    expect(body.checks.storage).toEqual({ status: 'failing', reason: expect.stringContaining('SESSION_STORAGE') });
  });
});

describe('wrong credentials, whole process', () => {
  it('shows within seconds in /healthz (503, naming DING_APP_SECRET) and in the log, while the service stays up', async () => {
    const fake = await startFakeDingTalk();
    cleanups.push(() => fake.close());
    let svc: ServiceProcess | undefined;
    cleanups.push(async () => void (await svc?.stop('SIGKILL', 1_000)));
    svc = await spawnService({
      ASSISTANT_BACKEND: 'dingtalk-assistant',
      DING_APP_KEY: fake.tokens.appKey,
      DING_APP_SECRET: 'WrongSecret-0123456789abcdef',
      AI_ASSISTANT_ID: fake.assistant.assistantId,
      DINGTALK_API_BASE: fake.baseUrl,
      DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
      DINGTALK_TIMEOUT_SECONDS: '3',
      SESSION_STORAGE: tempStorageUrl(),
      HOST: '127.0.0.1',
      PORT: '0',
    });
    let last: { code: number; body: Health } | undefined;
    await waitFor(
      async () => {
        const res = await fetch(`${svc!.url}/healthz`);
        last = { code: res.status, body: (await res.json()) as Health };
        return last.body.checks.dingtalk?.status === 'failing' && last.body.checks.stream?.status === 'failing';
      },
      10_000,
      'the credentials to be reported',
    );
    expect(last!.code).toBe(503);
    expect(last!.body.status).toBe('degraded');
    expect(last!.body.checks.dingtalk!.reason).toContain('DING_APP_SECRET');
    expect(last!.body.checks.stream!.reason).toContain('DING_APP_SECRET');
    expect(last!.body.checks.storage).toEqual({ status: 'ok' });
    const logged = svc.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.message === 'dependency check failing');
    expect(logged.some((r) => r.level === 'error' && String(r.reason).includes('DING_APP_SECRET'))).toBe(true);
    expect(svc.stdout.join('\n')).not.toContain('WrongSecret-0123456789abcdef');
  }, 30_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
