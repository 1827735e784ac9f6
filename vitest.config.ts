import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // A redis-server for the Redis tests unless TEST_REDIS_URL names one (.ci/run starts one).
    globalSetup: ['test/global-redis.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests open real sockets and SQLite files; two workers match the 2-core machines.
    maxWorkers: 2,
  },
});
