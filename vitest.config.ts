import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests open real sockets and SQLite files; two workers match the 2-core machines.
    maxWorkers: 2,
  },
});
