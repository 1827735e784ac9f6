import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The whole service as a child process (`src/main.ts` through tsx), as PM2 would run it. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** stdout JSON log lines and stderr text, as received. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** `http://127.0.0.1:<port>` once ready. */
  url: string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Sends a signal and waits for the exit (SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export function tempStorageUrl(): string {
  return `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'svc-')), 'sessions.sqlite')}`;
}

/** Spawns the service with exactly `env` (plus PATH) and waits for its `ready` log line. */
export async function spawnService(
  env: Record<string, string>,
  options: { waitReady?: boolean; nodeArgs?: readonly string[]; keepLines?: number } = {},
): Promise<ServiceProcess> {
  // Run from an empty folder so a developer's own .env can never leak into a test.
  const cwd = mkdtempSync(path.join(tmpdir(), 'svc-cwd-'));
  const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', loader, path.join(ROOT, 'src/main.ts')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const svc: ServiceProcess = {
    child,
    stdout,
    stderr,
    url: '',
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  // A flood test makes millions of lines: past `keepLines` they are read and dropped.
  const keep = options.keepLines ?? Infinity;
  let isReady = false;
  const ready = new Promise<void>((resolve, reject) => {
    lines(child.stdout!, (line) => {
      if (stdout.length < keep) stdout.push(line);
      if (isReady) return;
      const m = /"message":"ready".*"url":"([^"]+)"|"url":"([^"]+)".*"message":"ready"/.exec(line);
      if (m) {
        svc.url = (m[1] ?? m[2]!).replace('0.0.0.0', '127.0.0.1');
        isReady = true;
        resolve();
      }
    });
    lines(child.stderr!, (line) => {
      if (stderr.length < keep) stderr.push(line);
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before ready:\n${stderr.join('\n')}\n${stdout.join('\n')}`)));
  });
  if (options.waitReady !== false) await ready;
  else ready.catch(() => undefined);
  return svc;
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim()) onLine(line);
    }
  });
}

/**
 * The env of a service process against a fake DingTalk and its assistant, on a fresh SQLite
 * file and a free loopback port; `overrides` adds or replaces variables.
 */
export function fakeDingTalkEnv(
  fake: { tokens: { appKey: string; appSecret: string }; assistant: { assistantId: string }; baseUrl: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    DING_APP_KEY: fake.tokens.appKey,
    DING_APP_SECRET: fake.tokens.appSecret,
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    AI_ASSISTANT_ID: fake.assistant.assistantId,
    DINGTALK_API_BASE: fake.baseUrl,
    DINGTALK_WEBHOOK_ORIGINS: fake.baseUrl,
    SESSION_STORAGE: tempStorageUrl(),
    HOST: '127.0.0.1',
    PORT: '0',
    ...overrides,
  };
}
