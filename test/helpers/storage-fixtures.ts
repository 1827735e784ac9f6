import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A storage the shared suites run on; `url()` gives a fresh, empty store each call. */
export interface StorageFixture {
  readonly name: string;
  url(): Promise<string>;
}

export const SQLITE_FIXTURE: StorageFixture = {
  name: 'sqlite',
  url: async () => `sqlite://${path.join(mkdtempSync(path.join(tmpdir(), 'semantics-')), 'sessions.sqlite')}`,
};

export const STORAGE_FIXTURES: readonly StorageFixture[] = [SQLITE_FIXTURE];
