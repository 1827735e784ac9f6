import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Imports the app as `main` does (without starting it) in a fresh process; lists ioredis modules loaded. */
const PROBE = `
import { createRequire } from 'node:module';
await import('./src/app.ts');
await import('./src/storage/open-storage.ts');
await import('./src/health/storage-check.ts');
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/ioredis/'));
console.log(JSON.stringify(loaded.length));
`;

describe('start-up', () => {
  it('does not load the Redis client for a school on SQLite (it costs ~65 ms of start-up)', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout.trim())).toBe(0);
  }, 70_000);
});
