import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedisServer } from './redis-server.js';

/**
 * The Redis of this test file: TEST_REDIS_URL (`.ci/run` or the global setup start one), else a
 * server of the file's own, started before its tests and stopped after them. Isolate tests
 * with `uniquePrefix()`.
 */
export function useSharedRedis(): { readonly url: string } {
  const shared = { url: process.env.TEST_REDIS_URL ?? '' };
  let own: RedisServer | undefined;
  beforeAll(async () => {
    if (shared.url) return;
    own = await startRedisServer();
    shared.url = own.url;
  });
  afterAll(async () => {
    await own?.close();
  });
  return shared;
}
