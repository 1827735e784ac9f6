import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { MAX_ADMIT_BATCH, SqliteMessageLedger, type SqliteLedgerOptions } from '../../src/storage/sqlite/sqlite-message-ledger.js';
import { captureLogger } from '../helpers/capture-logs.js';

const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.allSettled(toClose.splice(0).map((c) => c.close()));
});

function tempFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'ledger-')), 'bot.sqlite');
}

async function open(options: Partial<SqliteLedgerOptions> = {}): Promise<SqliteMessageLedger> {
  const ledger = await SqliteMessageLedger.open({ file: ':memory:', ttlMs: 60_000, ...options });
  toClose.push(ledger);
  return ledger;
}

/** Another connection to the file, as a backup tool or a second process would hold it. */
async function rawConnection(file: string): Promise<{ all(sql: string): Promise<unknown[]>; close(): Promise<void> }> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
  });
  const all = (sql: string) => new Promise<unknown[]>((resolve, reject) => db.all(sql, (err, rows) => (err ? reject(err) : resolve(rows))));
  return { all, close: () => new Promise<void>((resolve) => db.close(() => resolve())) };
}

const isAdmit = (sql: string) => sql.trimStart().startsWith('INSERT INTO chat_ledger (id, admitted_at, expires_at, payload)');

describe('SQLite message ledger: group commit', () => {
  it('admits 450 distinct ids out of 500 concurrent admits, and none of them again after a reopen', async () => {
    const file = tempFile();
    const ids = Array.from({ length: 450 }, (_, i) => `msg-${i}`);
    // 50 redeliveries: some right behind the original (same batch), some far from it (later batch).
    const duplicates = Array.from({ length: 50 }, (_, i) => ids[(i * 37) % 450]!);
    const arrivals = [...ids.slice(0, 300), ...duplicates, ...ids.slice(300)];
    const first = await open({ file });
    const results = await Promise.all(arrivals.map((id) => first.admit({ id, admittedAt: Date.now(), payload: { id } })));
    expect(results.filter(Boolean)).toHaveLength(450);
    // The first arrival of each id is the one admitted.
    const winners = arrivals.filter((_, i) => results[i]);
    expect(new Set(winners).size).toBe(450);
    expect(arrivals.findIndex((id, i) => results[i] !== (arrivals.indexOf(id) === i))).toBe(-1);
    await first.close();

    const second = await open({ file });
    const again = await Promise.all(arrivals.map((id) => second.admit({ id, admittedAt: Date.now(), payload: null })));
    expect(again.every((r) => r === false)).toBe(true);
    expect((await second.pending()).map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('writes a burst of admits as one INSERT statement per batch of at most MAX_ADMIT_BATCH rows', async () => {
    const statements: string[] = [];
    const ledger = await open({ file: tempFile(), onStatement: (sql) => statements.push(sql) });
    const burst = 2 * MAX_ADMIT_BATCH + 100;
    const results = await Promise.all(
      Array.from({ length: burst }, (_, i) => ledger.admit({ id: `b-${i}`, admittedAt: 1, payload: i })),
    );
    expect(results.every(Boolean)).toBe(true);
    // The trace shows each statement with its values bound: count the rows each one carried.
    // Trace events come from SQLite's thread, so the last one may land just after the result.
    const rowsPerStatement = () => statements.filter(isAdmit).map((sql) => sql.match(/\('b-\d+'/g)?.length);
    await vi.waitFor(() => expect(rowsPerStatement()).toEqual([MAX_ADMIT_BATCH, MAX_ADMIT_BATCH, 100]), { timeout: 2_000 });
  });

  it('batches admits that arrive while a write is in flight', async () => {
    const statements: string[] = [];
    const ledger = await open({ file: tempFile(), onStatement: (sql) => statements.push(sql) });
    const firstWave = Array.from({ length: 5 }, (_, i) => ledger.admit({ id: `w1-${i}`, admittedAt: 1, payload: null }));
    // Frames trickling in over several event-loop turns while the first commit runs.
    const later: Array<Promise<boolean>> = [];
    for (let i = 0; i < 100; i++) {
      later.push(ledger.admit({ id: `w2-${i}`, admittedAt: 1, payload: null }));
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    expect([...(await Promise.all(firstWave)), ...(await Promise.all(later))].every(Boolean)).toBe(true);
    expect(statements.filter(isAdmit).length).toBeLessThan(105 / 5);
  });
});

describe('SQLite message ledger: expiry and order', () => {
  it('forgets an id once its time to live is over, and re-admits it as a new arrival', async () => {
    let now = 1_000_000;
    const ledger = await open({ ttlMs: 1_000, now: () => now });
    expect(await ledger.admit({ id: 'a', admittedAt: now, payload: 'first' })).toBe(true);
    now += 999;
    expect(await ledger.admit({ id: 'a', admittedAt: now, payload: 'again' })).toBe(false);
    now += 2; // past expires_at
    expect(await ledger.pending()).toEqual([]);
    const [b, a, c] = await Promise.all([
      ledger.admit({ id: 'b', admittedAt: now, payload: 'b' }),
      ledger.admit({ id: 'a', admittedAt: now, payload: 'second' }),
      ledger.admit({ id: 'c', admittedAt: now, payload: 'c' }),
    ]);
    expect([b, a, c]).toEqual([true, true, true]);
    // The re-admitted row keeps no trace of its first life and sorts where it arrived.
    expect(await ledger.pending()).toEqual([
      { id: 'b', admittedAt: now, payload: 'b' },
      { id: 'a', admittedAt: now, payload: 'second' },
      { id: 'c', admittedAt: now, payload: 'c' },
    ]);
    now += 1_001;
    expect(await ledger.sweep()).toBe(3);
    expect(await ledger.admit({ id: 'a', admittedAt: now, payload: null })).toBe(true);
  });

  it('lists messages admitted in the same millisecond in arrival order, across batches', async () => {
    const ledger = await open({ file: tempFile() });
    const ids = Array.from({ length: 300 }, (_, i) => `${(i * 7919) % 1000}-z`); // not sorted by text
    await Promise.all(ids.slice(0, 250).map((id) => ledger.admit({ id, admittedAt: 42, payload: id })));
    for (const id of ids.slice(250)) await ledger.admit({ id, admittedAt: 42, payload: id });
    await ledger.admit({ id: 'older', admittedAt: 41, payload: null });
    expect((await ledger.pending()).map((e) => e.id)).toEqual(['older', ...ids]);
  });
});

describe('SQLite message ledger: update and complete', () => {
  it('merges progress into an open entry and drops it all on completion', async () => {
    const file = tempFile();
    const ledger = await open({ file });
    await ledger.admit({ id: 'm', admittedAt: 1, payload: { text: 'question' } });
    await Promise.all([ledger.update('m', { runId: 'run_1', step: 1 }), ledger.update('m', { step: 2 }), ledger.update('m', { reply: 'answer' })]);
    expect(await ledger.pending()).toEqual([{ id: 'm', admittedAt: 1, payload: { text: 'question' }, progress: { runId: 'run_1', step: 2, reply: 'answer' } }]);

    await ledger.complete('m');
    await ledger.update('m', { reply: 'late' }); // a completed entry takes no more progress
    expect(await ledger.pending()).toEqual([]);
    expect(await ledger.admit({ id: 'm', admittedAt: 2, payload: null })).toBe(false);
    const raw = await rawConnection(file);
    try {
      expect(await raw.all(`SELECT done, payload, progress FROM chat_ledger WHERE id = 'm'`)).toEqual([{ done: 1, payload: null, progress: null }]);
    } finally {
      await raw.close();
    }
  });

  it('ignores updates of unknown ids and keeps a guard for an id completed without admission', async () => {
    const ledger = await open();
    await ledger.update('ghost', { reply: 'x' });
    expect(await ledger.pending()).toEqual([]);
    await ledger.complete('never-admitted'); // storage was down when it arrived
    expect(await ledger.admit({ id: 'never-admitted', admittedAt: 1, payload: null })).toBe(false);
  });

  it('finishes admits asked for before close, and refuses new ones after', async () => {
    const ledger = await open({ file: tempFile() });
    const admitted = Promise.all([1, 2, 3].map((i) => ledger.admit({ id: `c-${i}`, admittedAt: i, payload: null })));
    await ledger.close();
    expect(await admitted).toEqual([true, true, true]);
    await expect(ledger.admit({ id: 'late', admittedAt: 4, payload: null })).rejects.toBeInstanceOf(StorageError);
  });

  it('lives in an in-memory SQLite database for memory:// storage', async () => {
    const storage = await openStorage({ url: 'memory://', ledgerTtlMs: 60_000, logger: captureLogger().logger });
    toClose.push(storage);
    expect(await storage.ledger.admit({ id: 'm', admittedAt: 1, payload: 'p' })).toBe(true);
    expect(await storage.ledger.admit({ id: 'm', admittedAt: 1, payload: 'p' })).toBe(false);
    expect(await storage.ledger.pending()).toEqual([{ id: 'm', admittedAt: 1, payload: 'p' }]);
  });
});

describe('SQLite message ledger: a locked database', () => {
  async function lockedAdmit(ledger: { admit: SqliteMessageLedger['admit'] }, file: string) {
    const locker = await rawConnection(file);
    await locker.all('BEGIN EXCLUSIVE');
    const started = Date.now();
    const outcome = await ledger.admit({ id: 'during-lock', admittedAt: 1, payload: null }).then(
      () => 'admitted',
      (err: unknown) => err,
    );
    const waitedMs = Date.now() - started;
    await locker.all('COMMIT');
    await locker.close();
    return { outcome, waitedMs };
  }

  it('fails an admit with a StorageError after the busy timeout, then works again', async () => {
    const file = tempFile();
    const ledger = await open({ file, busyTimeoutMs: 300 });
    await ledger.admit({ id: 'before', admittedAt: 1, payload: null });
    const { outcome, waitedMs } = await lockedAdmit(ledger, file);
    expect(outcome).toBeInstanceOf(StorageError);
    expect(String((outcome as Error).message)).toMatch(/locked by another connection \(waited 300 ms\)/);
    expect(waitedMs).toBeGreaterThanOrEqual(250);
    expect(waitedMs).toBeLessThan(3_000);
    // Nothing was written, so the message is still new; the ledger recovered.
    expect(await ledger.admit({ id: 'during-lock', admittedAt: 2, payload: null })).toBe(true);
    expect((await ledger.pending()).map((e) => e.id)).toEqual(['before', 'during-lock']);
  });

  it('gives up within the default 5 s busy timeout when opened by openStorage', async () => {
    const file = tempFile();
    const storage = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });
    toClose.push(storage);
    const { outcome, waitedMs } = await lockedAdmit(storage.ledger, file);
    expect(outcome).toBeInstanceOf(StorageError);
    expect(waitedMs).toBeGreaterThanOrEqual(4_500);
    expect(waitedMs).toBeLessThan(9_000);
    expect(await storage.ledger.admit({ id: 'during-lock', admittedAt: 2, payload: null })).toBe(true);
  }, 20_000);
});

describe('SQLite message ledger: idle', () => {
  it('resolves only once every admit asked for so far is written', async () => {
    const ledger = await open();
    const settled: string[] = [];
    const admits = Array.from({ length: 50 }, (_, i) =>
      ledger.admit({ id: `m${i}`, admittedAt: Date.now(), payload: null }).then(() => settled.push(`m${i}`)),
    );
    await ledger.idle();
    expect(settled).toHaveLength(50);
    await Promise.all(admits);
    await ledger.idle(); // nothing queued: resolves at once
  });
});

describe('SQLite message ledger: idle under a steady stream', () => {
  it('does not wait for admits that arrive after it was called (answers are never starved)', async () => {
    const ledger = await open({ file: tempFile() });
    let streaming = true;
    let n = 0;
    const stream = (async () => {
      const started = Date.now();
      // A new admit every turn of the event loop: the writer is never without work.
      while (Date.now() - started < 400) {
        void ledger.admit({ id: `s${n++}`, admittedAt: Date.now(), payload: null });
        await new Promise((r) => setImmediate(r));
      }
      streaming = false;
    })();
    await new Promise((r) => setTimeout(r, 20));
    await ledger.idle();
    expect(streaming).toBe(true);
    await stream;
  });
});
