import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/doctor/run-doctor.js';
import { startFakeDingTalk, type FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { dingError } from '../fakes/fake-http-server.js';
import { permissionDenied } from '../fakes/fake-permissions.js';
import { tempStorageUrl } from '../helpers/service-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const fakes: FakeDingTalk[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function fakeDingTalk(): Promise<FakeDingTalk> {
  const fake = await startFakeDingTalk();
  fakes.push(fake);
  return fake;
}

/** A correct setup against the fake: Stream bot on, DingTalk assistant backend. */
const envFor = (fake: FakeDingTalk, extra: Record<string, string> = {}): Record<string, string> => ({
  ASSISTANT_BACKEND: 'dingtalk-assistant',
  DING_APP_KEY: fake.tokens.appKey,
  DING_APP_SECRET: fake.tokens.appSecret,
  AI_ASSISTANT_ID: fake.assistant.assistantId,
  DINGTALK_API_BASE: fake.baseUrl,
  DINGTALK_TIMEOUT_SECONDS: '2',
  SESSION_STORAGE: tempStorageUrl(),
  ...extra,
});

async function doctor(env: Record<string, string>): Promise<{ code: number; text: string; lines: string[] }> {
  const lines: string[] = [];
  const code = await runDoctor(env, (l) => lines.push(l));
  return { code, text: lines.join('\n'), lines };
}

/** The line of one check and the lines under it. */
const block = (lines: string[], title: string) => {
  const i = lines.findIndex((l) => l.includes(title));
  expect(i, `no line for ${title}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, k) => k > i && /^[✓✗–]|^\d|^全部/.test(l));
  return lines.slice(i, end < 0 ? undefined : end).join('\n');
};

describe('npm run doctor', () => {
  it('a correct setup: every check ✓, exit 0, and nothing was sent, connected or left behind', async () => {
    const fake = await fakeDingTalk();
    const { code, text, lines } = await doctor(envFor(fake));
    expect(code).toBe(0);
    expect(text).not.toContain('✗');
    for (const title of ['Configuration', 'Storage writable', 'DingTalk credentials', 'Stream gateway registration', 'Robot send permission', 'Model backend']) {
      expect(block(lines, title)).toMatch(/^✓/);
    }
    expect(block(lines, 'AI card permissions')).toMatch(/^– .*not applicable/);
    expect(lines.at(-1)).toMatch(/All checks passed/);
    expect(fake.robot.replies).toEqual([]);
    expect(fake.gateway.connections).toBe(0); // registered, but no socket opened
    expect(fake.assistant.calls.createRun).toBe(1); // refused on the empty thread: no run exists
    expect(fake.assistant.threads.size).toBe(0);
    expect(text).not.toContain(fake.tokens.appSecret);
    for (const ticket of fake.gateway.issuedTickets) expect(text).not.toContain(ticket);
  });

  it('a wrong secret is named (DING_APP_SECRET), never printed, and the checks that need a token are not run', async () => {
    const fake = await fakeDingTalk();
    const wrong = 'Wrong-Secret-Value-0a1b2c3d4e';
    const { code, text, lines } = await doctor(envFor(fake, { DING_APP_SECRET: wrong }));
    expect(code).toBe(1);
    const creds = block(lines, 'DingTalk credentials');
    expect(creds).toMatch(/^✗/);
    expect(creds).toContain('DING_APP_SECRET');
    expect(creds).toContain('Fix:');
    expect(creds).toContain('修复：');
    expect(block(lines, 'Robot send permission')).toMatch(/^– .*credentials check to pass first/);
    expect(text).not.toContain(wrong);
    expect(lines.at(-1)).toMatch(/1 check\(s\) failed, 3 not run/);
  });

  it('an unreachable DingTalk is named with its address', async () => {
    const fake = await fakeDingTalk();
    const base = fake.baseUrl;
    await fake.close();
    fakes.splice(fakes.indexOf(fake), 1);
    const { code, lines } = await doctor(envFor(fake, { DINGTALK_API_BASE: base }));
    expect(code).toBe(1);
    expect(block(lines, 'DingTalk credentials')).toContain(`DingTalk is unreachable at ${base}`);
  });

  it('a DingTalk that never answers fails by the time limit instead of hanging', async () => {
    const fake = await fakeDingTalk();
    fake.server.inject({ method: 'POST', path: '/v1.0/oauth2/accessToken', hang: true });
    const { code, lines } = await doctor(envFor(fake, { DINGTALK_TIMEOUT_SECONDS: '1', STREAM_ENABLED: 'false' }));
    expect(code).toBe(1);
    expect(block(lines, 'DingTalk credentials')).toMatch(/timed out|no result within/);
  });

  it('an assistant id DingTalk does not know names AI_ASSISTANT_ID; everything else passes', async () => {
    const fake = await fakeDingTalk();
    const { code, lines } = await doctor(envFor(fake, { AI_ASSISTANT_ID: 'a'.repeat(32) }));
    expect(code).toBe(1);
    const backend = block(lines, 'Model backend');
    expect(backend).toMatch(/^✗/);
    expect(backend).toContain('AI_ASSISTANT_ID');
    expect(block(lines, 'Robot send permission')).toMatch(/^✓/);
    expect(fake.assistant.threads.size).toBe(0);
  });

  it('storage that cannot be written names SESSION_STORAGE', async () => {
    const fake = await fakeDingTalk();
    const dir = mkdtempSync(path.join(tmpdir(), 'doc-'));
    writeFileSync(path.join(dir, 'a-file'), 'not a folder');
    // A path below a regular file cannot be created, whoever runs the test (root included).
    const { code, lines } = await doctor(envFor(fake, { SESSION_STORAGE: `sqlite://${path.join(dir, 'a-file', 'sessions.sqlite')}` }));
    expect(code).toBe(1);
    const storage = block(lines, 'Storage writable');
    expect(storage).toMatch(/^✗/);
    expect(storage).toContain('SESSION_STORAGE');
  });

  it('an unpublished app or a robot not in Stream mode, and a missing send permission, are told apart', async () => {
    const fake = await fakeDingTalk();
    fake.server.inject({ method: 'POST', path: '/v1.0/gateway/connections/open', respond: dingError(400, 'InvalidParameter', 'app not published') });
    fake.server.inject({ method: 'POST', path: '/v1.0/robot/oToMessages/batchSend', respond: permissionDenied('qyapi_robot_sendmsg') });
    const { code, lines } = await doctor(envFor(fake));
    expect(code).toBe(1);
    expect(block(lines, 'Stream gateway registration')).toMatch(/Stream mode|unpublished/);
    expect(block(lines, 'Robot send permission')).toContain('qyapi_robot_sendmsg');
    expect(block(lines, 'DingTalk credentials')).toMatch(/^✓/);
  });

  it('card reply mode: each missing card permission is named; with both granted the check passes', async () => {
    const fake = await fakeDingTalk();
    // A card that does not exist, as DingTalk answers once the permission check passed.
    fake.server.inject({ method: 'PUT', path: '/v1.0/card/streaming', respond: dingError(400, 'param.stream.outTrackId', 'card is not exist') });
    fake.server.inject({ method: 'PUT', path: '/v1.0/card/instances', respond: dingError(400, 'cardInstance.notExist', '卡片实例不存在') });
    const granted = await doctor(envFor(fake, { DINGTALK_REPLY_MODE: 'card', DINGTALK_CARD_TEMPLATE_ID: 'tpl-test.schema' }));
    expect(block(granted.lines, 'AI card permissions')).toMatch(/^✓/);
    expect(granted.code).toBe(0);

    fake.server.clearInjections();
    fake.server.inject({ method: 'PUT', path: '/v1.0/card/streaming', respond: permissionDenied('Card.Streaming.Write') });
    fake.server.inject({ method: 'PUT', path: '/v1.0/card/instances', respond: dingError(400, 'cardInstance.notExist', '卡片实例不存在') });
    const missing = await doctor(envFor(fake, { DINGTALK_REPLY_MODE: 'card', DINGTALK_CARD_TEMPLATE_ID: 'tpl-test.schema' }));
    expect(missing.code).toBe(1);
    const card = block(missing.lines, 'AI card permissions');
    expect(card).toContain('Card.Streaming.Write');
    expect(card).not.toContain('Card.Instance.Write');
  });

  it('an invalid configuration lists every problem by variable and stops there', async () => {
    const { code, lines } = await doctor({ PORT: 'eighty', STREAM_ENABLED: 'false' });
    expect(code).toBe(1);
    const config = block(lines, 'Configuration');
    expect(config).toMatch(/^✗/);
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL', 'PORT']) expect(config).toContain(name);
    expect(lines.some((l) => l.includes('Storage writable'))).toBe(false);
  });

  it('as a script: reads .env from the working folder and exits 0, or 1 when something fails', async () => {
    const fake = await fakeDingTalk();
    const ok = await runScript(envFor(fake));
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/✓ 存储可写/);
    const bad = await runScript(envFor(fake, { AI_ASSISTANT_ID: 'b'.repeat(32) }));
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('AI_ASSISTANT_ID');
  }, 20_000);
});

/** `src/doctor/doctor-main.ts` as a process in a folder holding only a .env file. */
function runScript(dotenv: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'doctor-cwd-'));
  writeFileSync(path.join(cwd, '.env'), Object.entries(dotenv).map(([k, v]) => `${k}=${v}`).join('\n'));
  const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--import', loader, path.join(ROOT, 'src/doctor/doctor-main.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
