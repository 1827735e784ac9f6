import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { httpConversationKey } from '../../src/engine/conversation-key.js';
import { StorageError } from '../../src/errors.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { startHttpHarness } from '../helpers/http-harness.js';

const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function tempFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'store-')), 'sessions.sqlite');
}

async function open(file: string, logs = captureLogger()) {
  const storage = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: logs.logger });
  opened.push(storage);
  return storage;
}

function rawExec(file: string, sql: string, params: unknown[] = []): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (err) => {
      if (err) return reject(err);
      db.run(sql, params, (e) => (e ? reject(e) : resolve(db)));
    });
  });
}

const key = httpConversationKey('6f1c2b9e-8d4a-4c1e-9f3a-2b7d5e8c1a00');

describe('SQLite storage', () => {
  it('creates the folder named in SESSION_STORAGE', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'store-')), 'nested', 'deeper', 's.sqlite');
    const storage = await open(file);
    expect(await storage.ping()).toBe(true);
  });

  it('fails start-up with a clear StorageError when the folder is not writable', async () => {
    if (process.getuid?.() === 0) return; // root can write anywhere; covered by the locked-file test
    const dir = mkdtempSync(path.join(tmpdir(), 'store-'));
    chmodSync(dir, 0o500);
    await expect(open(path.join(dir, 's.sqlite'))).rejects.toBeInstanceOf(StorageError);
  });

  it('refuses a SESSION_STORAGE it does not understand, naming the forms it does', async () => {
    const opening = openStorage({ url: 'mongodb://user:hunter2-secret@x/db', ledgerTtlMs: 1, logger: captureLogger().logger });
    await expect(opening).rejects.toThrow(/sqlite:\/\/<file>, memory:\/\/ or redis:\/\//);
    await expect(opening).rejects.not.toThrow(/hunter2/);
  });

  it('discards and logs a corrupt session record', async () => {
    const file = tempFile();
    const logs = captureLogger();
    const storage = await open(file, logs);
    await storage.sessions.set(key, { backend: 'dingtalk-assistant', state: { threadId: 't1' }, lastActiveAt: Date.now() }, 60_000);
    await storage.close();
    opened.splice(opened.indexOf(storage), 1);
    // The file is damaged while the service is down; the next process reads it.
    const db = await rawExec(file, `UPDATE sessions SET value = ? WHERE key = ?`, ['{not json', `sessions:${key}`]);
    db.close();
    const reopened = await open(file, logs);
    expect(await reopened.sessions.get(key)).toBeUndefined();
    expect(logs.records().some((r) => r.message === 'discarded a corrupt session record')).toBe(true);
    // a record of the wrong shape is discarded too
    await reopened.close();
    opened.splice(opened.indexOf(reopened), 1);
    const db2 = await rawExec(file, `INSERT OR REPLACE INTO sessions(key, value) VALUES (?, ?)`, [`sessions:${key}`, JSON.stringify({ value: { threadId: 5 } })]);
    db2.close();
    const third = await open(file, logs);
    expect(await third.sessions.get(key)).toBeUndefined();
    expect(logs.records().filter((r) => r.message === 'discarded a corrupt session record')).toHaveLength(2);
    await third.sessions.set(key, { backend: 'dingtalk-assistant', state: { threadId: 't2' }, lastActiveAt: Date.now() }, 60_000);
    expect((await third.sessions.get(key))?.state).toEqual({ threadId: 't2' });
  });

  it('reads a thread record written before several backends existed as a DingTalk assistant session', async () => {
    const file = tempFile();
    const storage = await open(file);
    await storage.close();
    opened.splice(opened.indexOf(storage), 1);
    const old = { threadId: 't_old', lastActiveAt: 1_700_000_000_000, pendingRunId: 'r9' };
    const db = await rawExec(file, `INSERT OR REPLACE INTO sessions(key, value) VALUES (?, ?)`, [
      `sessions:${key}`,
      JSON.stringify({ value: old, expires: Date.now() + 60_000 }),
    ]);
    db.close();
    const reopened = await open(file);
    expect(await reopened.sessions.get(key)).toEqual({
      backend: 'dingtalk-assistant',
      state: { threadId: 't_old', pendingRunId: 'r9' },
      lastActiveAt: 1_700_000_000_000,
    });
  });

  it('keeps one pseudonym key per store, across restarts', async () => {
    const file = tempFile();
    const first = await open(file);
    const keyOne = first.pseudonymKey;
    await first.close();
    opened.splice(opened.indexOf(first), 1);
    const second = await open(file);
    expect(keyOne).toMatch(/^[0-9a-f]{64}$/);
    expect(second.pseudonymKey).toBe(keyOne);
    expect((await open(tempFile())).pseudonymKey).not.toBe(keyOne);
  });

  it('sweep deletes expired sessions from the file, so it does not grow for months', async () => {
    const file = tempFile();
    const storage = await open(file);
    for (let i = 0; i < 20; i++) {
      await storage.sessions.set(httpConversationKey(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`), { backend: 'openai', state: { turns: [] }, lastActiveAt: Date.now() }, i < 15 ? 50 : 60_000);
    }
    await new Promise((r) => setTimeout(r, 100));
    await storage.sweep();
    const db = await rawExec(file, 'SELECT 1');
    const rows = await new Promise<unknown[]>((resolve, reject) =>
      db.all(`SELECT key FROM sessions WHERE key LIKE 'sessions:http:%'`, (err, r) => (err ? reject(err) : resolve(r))),
    );
    db.close();
    expect(rows).toHaveLength(5);
  });

  it('turns a locked database into a 503 for /assistant/ask, then recovers', async () => {
    const h = await startHttpHarness();
    try {
      const file = h.config.sessions.storage.replace('sqlite://', '');
      const locker = await rawExec(file, 'BEGIN EXCLUSIVE');
      const res = await h.ask({ question: 'hi' });
      expect(res).toMatchObject({ status: 503, body: { code: 50301 } });
      await new Promise<void>((resolve) => locker.run('COMMIT', () => locker.close(() => resolve())));
      expect((await h.ask({ question: 'hi' })).status).toBe(200);
    } finally {
      await h.close();
    }
  }, 30_000);
});

describe('message ledger', () => {
  it('admits an id once, remembers it across a reopen, and lists unfinished work oldest first', async () => {
    const file = tempFile();
    const first = await open(file);
    expect(await first.ledger.admit({ id: 'm2', admittedAt: 2, payload: { text: 'two' } })).toBe(true);
    expect(await first.ledger.admit({ id: 'm1', admittedAt: 1, payload: { text: 'one' } })).toBe(true);
    expect(await first.ledger.admit({ id: 'm3', admittedAt: 3, payload: { text: 'three' } })).toBe(true);
    expect(await first.ledger.admit({ id: 'm1', admittedAt: 4, payload: {} })).toBe(false);
    await first.ledger.update('m2', { runId: 'run_1' });
    await first.ledger.complete('m3');
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const second = await open(file);
    expect(await second.ledger.admit({ id: 'm3', admittedAt: 5, payload: {} })).toBe(false);
    const pending = await second.ledger.pending();
    expect(pending.map((p) => p.id)).toEqual(['m1', 'm2']);
    expect(pending[1]?.progress).toEqual({ runId: 'run_1' });
  });

  it('admits concurrent duplicates exactly once', async () => {
    const storage = await open(tempFile());
    const results = await Promise.all(Array.from({ length: 10 }, () => storage.ledger.admit({ id: 'same', admittedAt: 1, payload: null })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
