import { spawnSync } from 'node:child_process';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

/**
 * Vitest global setup: one redis-server for the whole run when TEST_REDIS_URL is not given
 * (`.ci/run` gives one), exported as TEST_REDIS_URL to the test processes, stopped at the end.
 * Without the redis-server binary nothing starts; the Redis tests then say how to install it.
 */
let server: RedisServer | undefined;

export async function setup(): Promise<void> {
  if (process.env.TEST_REDIS_URL) return;
  if (spawnSync('redis-server', ['--version']).error) return;
  server = await startRedisServer({ databases: 1024 });
  process.env.TEST_REDIS_URL = server.url;
}

export async function teardown(): Promise<void> {
  await server?.close();
}
