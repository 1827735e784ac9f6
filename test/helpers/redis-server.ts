import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A real `redis-server` (Debian's package) of our own, on a free loopback port, in a temp dir. */
export interface RedisServer {
  /** `redis://[:password@]127.0.0.1:<port>/0` */
  readonly url: string;
  readonly port: number;
  /** The running server's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** SIGTERM and wait (Redis writes its append-only file on the way out). */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder (after stop or kill). */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file with fsync on every write, so a restart keeps everything (default off). */
  readonly persistent?: boolean;
  readonly password?: string;
  /** How many numbered databases (default Redis's 16); `freshRedisStoreUrl` hands out one each. */
  readonly databases?: number;
}

const READY_TIMEOUT_MS = 5_000;

/** Starts a redis-server; stop it with `close()` (by its pid). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertInstalled();
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-test-'));
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, options);
      break;
    } catch (err) {
      if (attempt >= 3) throw err; // the port was taken between the probe and the bind
    }
  }
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const server: RedisServer = {
    url: `redis://${auth}127.0.0.1:${port}/0`,
    port,
    get pid() {
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    stop: () => end(child, 'SIGTERM'),
    kill: () => end(child, 'SIGKILL'),
    async start() {
      await end(child, 'SIGTERM');
      child = await launch(port, dir, options);
    },
    async close() {
      await end(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * A fresh, empty store on the run's Redis (TEST_REDIS_URL, from `.ci/run` or the global setup
 * `test/global-redis.ts`) as a bare URL: a numbered database of its own, flushed. For suites
 * that open storage from `SESSION_STORAGE` alone.
 */
export async function freshRedisStoreUrl(): Promise<string> {
  const run = process.env.TEST_REDIS_URL;
  if (!run) throw new Error('TEST_REDIS_URL is not set: install redis-server (the global setup starts one) or run .ci/run');
  const base = new URL(run);
  const client = new Redis(base.toString());
  try {
    const [, configured] = (await client.config('GET', 'databases')) as [string, string];
    const databases = Number(configured ?? 16);
    const n = await client.incr('test-fixture:next-database');
    const db = 1 + (n % Math.max(1, databases - 1)); // database 0 keeps the counter
    await client.select(db);
    await client.flushdb();
    base.pathname = `/${db}`;
    return base.toString();
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test uses (REDIS_KEY_PREFIX). */
export function uniquePrefix(): string {
  return `test-${randomBytes(6).toString('hex')}:`;
}

function assertInstalled(): void {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error) {
    throw new Error('redis-server is not installed: apt-get update && apt-get install -y redis-server (the Redis tests need a real server)');
  }
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.persistent ? 'yes' : 'no',
    '--appendfsync', 'always',
    '--daemonize', 'no',
    '--logfile', '',
    ...(options.password ? ['--requirepass', options.password] : []),
    ...(options.databases ? ['--databases', String(options.databases)] : []),
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server not ready after ${READY_TIMEOUT_MS} ms:\n${output}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.resume(); // keep draining, or a chatty server would block on a full pipe
      resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`));
    });
  });
}

async function end(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
