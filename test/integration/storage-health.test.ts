import { rmSync } from 'node:fs';
import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';

const open: Array<HttpHarness | StreamHarness> = [];
const lockers: sqlite3.Database[] = [];
afterEach(async () => {
  for (const db of lockers.splice(0)) await new Promise<void>((resolve) => db.run('ROLLBACK', () => db.close(() => resolve())));
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** The service as main builds it, HTTP only, on a SQLite file. */
async function service() {
  const h = await startStreamHarness({ env: { STREAM_ENABLED: 'false' } });
  open.push(h);
  await h.app.readiness.settled();
  return { h, file: h.config.sessions.storage.replace('sqlite://', '') };
}

/** Another connection takes the write lock and keeps it: reads go on (WAL), every write waits. */
function holdWriteLock(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (err) => {
      if (err) return reject(err);
      db.run('BEGIN IMMEDIATE', (e) => (e ? reject(e) : resolve()));
    });
    lockers.push(db);
  });
}

async function health(url: string): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: await res.json(), ms: Date.now() - started };
}

describe('/healthz sees whether the storage takes writes', () => {
  it('is 503 within seconds when the database file was deleted under the running service', async () => {
    const { h, file } = await service();
    expect((await health(h.app.url)).status).toBe(200);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    // A probe result stands for a second; the next one sees the file gone.
    await waitFor(async () => (await health(h.app.url)).status === 503, 3_000, '/healthz to turn 503');
    expect((await health(h.app.url)).body.checks.storage).toEqual({ status: 'failing', reason: expect.stringContaining('deleted') });
  });

  it('is 503 within a few seconds when a write never finishes (another process holds the write lock)', async () => {
    const { h, file } = await service();
    expect((await health(h.app.url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100)); // past the probe's one-second reuse
    await holdWriteLock(file);
    const [a, b] = await Promise.all([health(h.app.url), health(h.app.url)]);
    for (const res of [a, b]) {
      expect(res.status).toBe(503);
      expect(res.body.checks.storage.reason).toMatch(/did not finish a write within 3 s/);
      expect(res.ms).toBeLessThan(4_500);
    }
  }, 15_000);
});

describe('a question whose answer could not be stored', () => {
  it('stops before it costs a model run', async () => {
    const h = await startHttpHarness();
    open.push(h);
    const first = await h.ask({ question: 'first' });
    expect(first.status).toBe(200);
    // A write in the last second counts as proof; past it the store is asked again.
    await new Promise((r) => setTimeout(r, 1_100));
    // The session is cached, so only a write can tell that the store is stuck.
    await holdWriteLock(h.config.sessions.storage.replace('sqlite://', ''));
    const second = await h.ask({ question: 'second', sessionId: first.body.sessionId });
    expect(second).toMatchObject({ status: 503, body: { code: 50301 } });
    expect((h.backend as { count(op: string): number }).count('ask')).toBe(1);
  }, 15_000);
});
