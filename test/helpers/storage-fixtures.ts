import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshRedisStoreUrl } from './redis-server.js';

/** A storage the shared suites run on; `url()` gives a fresh, empty store each call. */
export interface StorageFixture {
  readonly name: string;
  url(): Promise<string>;
}

export const SQLITE_FIXTURE: StorageFixture = {
  name: 'sqlite',
  url: async () => `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'semantics-')), 'sessions.sqlite')}`,
};

/** A numbered database of its own on the run's Redis (TEST_REDIS_URL, or a server of the test process). */
export const REDIS_FIXTURE: StorageFixture = { name: 'redis', url: freshRedisStoreUrl };

export const STORAGE_FIXTURES: readonly StorageFixture[] = [SQLITE_FIXTURE, REDIS_FIXTURE];
