import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDingTalk, type FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { floodWith404s } from '../helpers/http-flood.js';
import { todaysLogFile } from '../helpers/log-files.js';
import { openIdleConnections } from '../helpers/raw-http.js';
import { fakeDingTalkEnv, spawnService, type ServiceProcess } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/** The V8 limits `npm start` runs with (package.json). */
const START_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=8'];

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeDingTalk(options: Parameters<typeof startFakeDingTalk>[0] = {}): Promise<FakeDingTalk> {
  const fake = await startFakeDingTalk(options);
  cleanups.push(() => fake.close());
  return fake;
}

/** An HTTP-only service on the DingTalk assistant backend, every DingTalk call to the fake. */
function serviceEnv(fake: FakeDingTalk, extra: Record<string, string> = {}): Record<string, string> {
  return fakeDingTalkEnv(fake, { STREAM_ENABLED: 'false', ...extra });
}

async function spawn(env: Record<string, string>, options: Parameters<typeof spawnService>[1] = {}): Promise<ServiceProcess> {
  const svc = await spawnService(env, options);
  cleanups.push(() => svc.stop('SIGKILL', 1_000));
  return svc;
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe('the process under a flood of requests', () => {
  it('survives 404s with 4 KB URLs over 4 connections while LOG_FILE cannot keep up: alive, RSS under 200 MB, lines dropped and counted', async () => {
    const fake = await fakeDingTalk();
    const dir = mkdtempSync(path.join(tmpdir(), 'flood-log-'));
    const today = todaysLogFile(dir);
    // Today's log file is a FIFO read at 320 KB/s: a disk far slower than the flood.
    execFileSync('mkfifo', [today]);
    let fileText = '';
    let slow = true;
    const reader = createReadStream(today, { encoding: 'utf8', highWaterMark: 16 * 1024 });
    reader.on('data', (chunk) => {
      fileText = (fileText + chunk).slice(-1_000_000);
      if (!slow) return;
      reader.pause();
      setTimeout(() => reader.resume(), 50);
    });
    cleanups.push(() => reader.destroy());
    const svc = await spawn(serviceEnv(fake, { LOG_FILE: path.join(dir, 'bridge.log') }), { keepLines: 200, nodeArgs: START_FLAGS });
    const pid = svc.child.pid!;
    let maxRss = rssMb(pid);
    const sampler = setInterval(() => {
      if (svc.child.exitCode === null) maxRss = Math.max(maxRss, rssMb(pid));
    }, 200);
    const flood = await floodWith404s({ url: svc.url, connections: 4, durationMs: 6_000, pathLength: 4096 }).finally(() => clearInterval(sampler));

    expect(svc.child.exitCode).toBeNull();
    expect(maxRss).toBeLessThan(200);
    expect(flood.sent).toBeGreaterThan(1_000);
    expect(flood.statuses[429]).toBeGreaterThan(0); // unknown paths are rate limited too
    slow = false;
    reader.resume();
    await waitFor(() => /LOG_FILE could not keep up.*"droppedLines":\d+/.test(fileText), 8_000, 'the line counting dropped lines');
    // Still answering (this client is still over its limit: every request here comes from 127.0.0.1).
    const after = await fetch(`${svc.url}/healthz`);
    expect([200, 429]).toContain(after.status);
    expect(svc.child.exitCode).toBeNull();
  }, 30_000);

  it('cannot run out of file descriptors: connections past HTTP_MAX_CONNECTIONS are closed as they arrive', async () => {
    const fake = await fakeDingTalk();
    const svc = await spawn(serviceEnv(fake, { HTTP_MAX_CONNECTIONS: '50', HTTP_REQUEST_TIMEOUT_SECONDS: '2' }));
    const pid = svc.child.pid!;
    const before = openFds(pid);
    const sockets: net.Socket[] = await openIdleConnections(svc.url, 3_000);
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 300));
    expect(openFds(pid) - before).toBeLessThanOrEqual(50 + 10);
    expect(svc.child.exitCode).toBeNull();
    // The idle ones it kept are closed at the request timeout; then it answers again.
    await waitFor(async () => (await fetch(`${svc.url}/healthz`).then((r) => r.status).catch(() => 0)) === 200, 8_000, '/healthz to answer');
  }, 20_000);
});

describe('signals', () => {
  it('a second SIGTERM during the graceful stop is logged and ignored: the stop finishes with exit 0', async () => {
    const fake = await fakeDingTalk({ assistant: { runDurationMs: 2_500 } });
    const svc = await spawn(serviceEnv(fake));
    // A question in flight makes the stop take a while (the drain waits for it).
    const answer = fetch(`${svc.url}/assistant/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'slow one' }),
    }).catch(() => undefined);
    await waitFor(() => fake.assistant.threads.size === 1, 5_000, 'the question to reach the assistant');
    svc.child.kill('SIGTERM');
    await waitFor(() => svc.stdout.some((l) => l.includes('"message":"stopping"')), 5_000, 'the stop to begin');
    svc.child.kill('SIGTERM');
    svc.child.kill('SIGINT');
    expect(await svc.exited).toBe(0);
    await answer;
    const lines = svc.stdout.join('\n');
    expect(lines).toMatch(/already stopping; signal ignored.*SIGTERM|SIGTERM.*already stopping; signal ignored/);
    expect(lines).toContain('"message":"stopped"');
  }, 20_000);

  it('SIGHUP reopens LOG_FILE (after logrotate moved it away) and SIGUSR2 does not end the process', async () => {
    const fake = await fakeDingTalk();
    const dir = mkdtempSync(path.join(tmpdir(), 'rotated-log-'));
    const svc = await spawn(serviceEnv(fake, { LOG_FILE: path.join(dir, 'bridge.log') }));
    const today = todaysLogFile(dir);
    await waitFor(() => existsSync(today) && readFileSync(today, 'utf8').includes('"message":"ready"'), 5_000, 'the log file');
    renameSync(today, `${today}.1`); // what logrotate does before its postrotate signal
    svc.child.kill('SIGHUP');
    await waitFor(() => svc.stdout.some((l) => l.includes('log files reopened') && l.includes('SIGHUP')), 5_000, 'the reopen');
    expect((await fetch(`${svc.url}/after-rotation`)).status).toBe(404);
    await waitFor(() => existsSync(today) && readFileSync(today, 'utf8').includes('/after-rotation'), 5_000, 'a new file with the new lines');
    expect(readFileSync(`${today}.1`, 'utf8')).not.toContain('/after-rotation');

    svc.child.kill('SIGUSR2'); // pm2 reloadLogs
    await waitFor(() => svc.stdout.some((l) => l.includes('log files reopened') && l.includes('SIGUSR2')), 5_000, 'the second reopen');
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect(svc.child.exitCode).toBeNull();
  }, 20_000);
});
