import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchFake } from './fake.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/**
 * The tree whose src/ is benchmarked: this repository, or BENCH_SERVICE_ROOT (a copy with a
 * candidate fix applied and node_modules linked), to measure a fix before proposing it.
 */
const SERVICE_ROOT = path.resolve(process.env.BENCH_SERVICE_ROOT ?? ROOT);
const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks
const LOG_TAIL = 200;

/** The whole service as a child process (`node --import tsx src/main.ts`), as PM2 runs it. */
export interface BenchService {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Spawn to the `ready` IPC message (the one PM2's wait_ready listens for). */
  readonly startupMs: number;
  readonly storageFile: string;
  /** The last log lines (stdout and stderr), for diagnosing a failed run. */
  readonly logTail: string[];
  /** Resident set size now, in MB (from /proc). */
  rssMb(): number;
  /** User + system CPU seconds used so far (from /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** `compiled`: node on the tsc output (what `npm start` runs); `tsx`: src/main.ts through tsx. */
  readonly runtime?: 'compiled' | 'tsx';
  /** Extra node flags, e.g. `--cpu-prof` (default: BENCH_NODE_ARGS, space-separated). */
  readonly nodeArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
}

/** Where `compileService` puts the tsc output (git-ignored). */
export const BUILD_DIR = path.join(ROOT, 'bench/.build');

/**
 * Compiles src/ with the production tsconfig into bench/.build (so the suite never depends on a
 * stale dist/). Returns the compile time in ms.
 */
export function compileService(): number {
  const started = performance.now();
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const res = spawnSync(process.execPath, [tsc, '-p', path.join(SERVICE_ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR], {
    cwd: SERVICE_ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(path.join(BUILD_DIR, 'main.js'))) throw new Error(`tsc produced no main.js:\n${res.stdout}${res.stderr}`);
  if (res.status !== 0) process.stderr.write(`warning: tsc reported errors (output still used):\n${res.stdout}\n`);
  return performance.now() - started;
}

/** The V8 flags `npm start` runs the service with (package.json is the one source of them). */
function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((t) => t.startsWith('--'));
}

function entryArgs(runtime: 'compiled' | 'tsx'): string[] {
  if (runtime === 'compiled') return [...startFlags(), path.join(BUILD_DIR, 'main.js')];
  const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  return ['--import', loader, path.join(SERVICE_ROOT, 'src/main.ts')];
}

/** Settings every benchmark uses unless it overrides them; limits high so they never refuse. */
export function benchEnv(fake: BenchFake, overrides: Record<string, string> = {}): Record<string, string> {
  const f = fake.fake;
  return {
    DING_APP_KEY: f.tokens.appKey,
    DING_APP_SECRET: f.tokens.appSecret,
    ASSISTANT_BACKEND: 'dingtalk-assistant',
    AI_ASSISTANT_ID: f.assistant.assistantId,
    DINGTALK_API_BASE: f.baseUrl,
    DINGTALK_WEBHOOK_ORIGINS: f.baseUrl,
    SESSION_STORAGE: `sqlite://${tempStorageFile()}`,
    HOST: '127.0.0.1',
    RATE_LIMIT: '1000000/minute',
    USER_RATE_LIMIT: '1000000/minute',
    STUDENT_DAILY_QUOTA: '0', // unlimited: a throughput run asks far more than a student's day
    MAX_CONCURRENT_RUNS: '250',
    CHAT_QUEUE_LIMIT: '25',
    ANSWER_TIMEOUT_SECONDS: '30',
    THINKING_NOTICE_SECONDS: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    STREAM_ENABLED: 'true',
    ASSISTANT_STREAMING: 'true',
    ...overrides,
  };
}

export function tempStorageFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'bench-db-')), 'sessions.sqlite');
}

/** Spawns the service on a free port and waits (bounded) for its `ready` message. */
export async function startService(env: Record<string, string>, options: StartOptions = {}): Promise<BenchService> {
  const port = await freePort();
  const cwd = mkdtempSync(path.join(tmpdir(), 'bench-cwd-')); // no developer .env can leak in
  const started = performance.now();
  const nodeArgs = options.nodeArgs ?? (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...entryArgs(options.runtime ?? 'compiled')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const logTail: string[] = [];
  const keep = (chunk: Buffer) => {
    logTail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (logTail.length > LOG_TAIL) logTail.splice(0, logTail.length - LOG_TAIL);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitReady(child, exited, options.readyTimeoutMs ?? 20_000, logTail);
  const startupMs = performance.now() - started;
  const pid = child.pid!;
  return {
    child,
    pid,
    url: `http://127.0.0.1:${port}`,
    startupMs,
    storageFile: (env.SESSION_STORAGE ?? '').replace(/^sqlite:\/\//, ''),
    logTail,
    rssMb: () => rssMb(pid),
    cpuSeconds: () => cpuSeconds(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitReady(child: ChildProcess, exited: Promise<void>, timeoutMs: number, logTail: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service not ready after ${timeoutMs} ms:\n${logTail.join('\n')}`));
    }, timeoutMs);
    child.on('message', (m) => {
      if (m !== 'ready') return;
      clearTimeout(timer);
      resolve();
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`service exited before ready:\n${logTail.join('\n')}`));
    });
  });
}

/** A port free right now on 127.0.0.1 (the service binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
