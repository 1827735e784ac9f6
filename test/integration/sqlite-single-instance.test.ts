import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { TEST_ENV } from '../helpers/http-harness.js';
import { spawnService, tempStorageUrl } from '../helpers/service-process.js';

/**
 * SQLite is the one-process store: a second process on the same file would hold a second
 * Stream connection and get half of the messages. It is refused with a clear message; a lock
 * left by a killed process is taken over at once.
 */
const open = (file: string) => openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });

describe('one instance per SQLite file', () => {
  it('refuses a second store on the same file, saying who holds it and what to do, until the first closes', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'single-')), 'sessions.sqlite');
    const first = await open(file);
    const refused = await open(file).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageError);
    const message = String((refused as Error).message);
    expect(message).toContain(`another instance of the service is using ${file}`);
    expect(message).toContain(`(pid ${process.pid} on `);
    expect(message).toContain('SESSION_STORAGE=redis://');
    expect(await first.ping()).toBe(true); // the refusal did not disturb the holder
    await first.close();
    const second = await open(file);
    expect(await second.ping()).toBe(true);
    await second.close();
    // memory:// stores are private to their process: any number may open.
    const memories = await Promise.all([1, 2].map(() => openStorage({ url: 'memory://', ledgerTtlMs: 1_000, logger: captureLogger().logger })));
    await Promise.all(memories.map((m) => m.close()));
  });

  it('a second service process exits with the message; after kill -9 of the first, a new one starts at once', async () => {
    const env = { ...TEST_ENV, SESSION_STORAGE: tempStorageUrl(), STREAM_ENABLED: 'false' };
    const first = await spawnService(env);
    try {
      const second = await spawnService(env, { waitReady: false });
      expect(await second.exited).toBe(1);
      const out = second.stdout.join('\n');
      expect(out).toContain('start-up failed');
      expect(out).toContain('another instance of the service is using');
      expect(out).toContain(`(pid ${first.child.pid} on `);
      first.child.kill('SIGKILL');
      await first.exited;
      const third = await spawnService(env); // the dead process's lock went with it
      expect(await (await fetch(`${third.url}/healthz`)).json()).toMatchObject({ storage: 'ok' });
      expect(await third.stop('SIGTERM')).toBe(0);
    } finally {
      await first.stop('SIGKILL', 1_000);
    }
  }, 40_000);
});
