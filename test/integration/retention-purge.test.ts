import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionPurge } from '../../src/policy/retention-purge.js';
import { SchoolClock } from '../../src/policy/school-clock.js';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { openStorage, type Storage } from '../../src/storage/open-storage.js';
import { captureLogger } from '../helpers/capture-logs.js';

const DAY = 24 * 3600_000;
const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function tempFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'purge-')), 'data', 'sessions.sqlite');
}

async function open(file: string): Promise<Storage> {
  const storage = await openStorage({ url: `sqlite://${file}`, ledgerTtlMs: 60_000, logger: captureLogger().logger });
  opened.push(storage);
  return storage;
}

/** Everything SQLite keeps on disk for `file`: the database, its WAL and shared-memory index. */
function bytesOnDisk(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`, `${file}-shm`].filter(existsSync).map((f) => readFileSync(f)));
}

const contains = (bytes: Buffer, text: string) => bytes.includes(Buffer.from(text, 'utf8'));

function audit(id: string, at: number): AuditRecord {
  return { id, at, transport: 'chat', user: 'u_x', role: 'student', conversation: 'dm', backend: 'openai', outcome: 'answered', latencyMs: 5 };
}

describe('retention purge on the real SQLite file', () => {
  it('leaves no question or answer text past its retention readable in the file or its WAL', async () => {
    const file = tempFile();
    const storage = await open(file);
    const question = `请帮我看看这道题-${randomUUID()}`;
    const answer = `这是回答-${randomUUID()}`;
    const live = `仍在进行的对话-${randomUUID()}`;
    const now = Date.now();
    // An idle session whose history holds the student's words (expires at once), and a live one.
    await storage.sessions.set('dm:old', { backend: 'openai', state: { history: [{ q: question, a: answer }] }, lastActiveAt: now }, 1);
    await storage.sessions.set('dm:live', { backend: 'openai', state: { history: [{ q: live, a: 'ok' }] }, lastActiveAt: now }, 60_000);
    // A chat message with its recorded answer, delivered and completed.
    await storage.ledger.admit({ id: 'msg-1', admittedAt: now, payload: { content: { kind: 'text', text: question } } });
    await storage.ledger.update('msg-1', { reply: answer });
    await storage.ledger.complete('msg-1');
    // A review transcript (TRANSCRIPT_RETENTION_DAYS=0: none may stay) and audit records either side of 180 days.
    await storage.policy.transcripts.append({ id: 't1', at: now - DAY, user: 'u_x', role: 'student', conversation: 'dm', question, answer });
    await storage.policy.audit.append(audit('old', now - 181 * DAY));
    await storage.policy.audit.append(audit('recent', now - 179 * DAY));
    expect(contains(bytesOnDisk(file), question)).toBe(true); // the check sees text that is there

    await new Promise((r) => setTimeout(r, 5));
    const purge = new RetentionPurge({
      storage,
      retention: { auditDays: 180, transcriptDays: 0 },
      clock: new SchoolClock('Asia/Shanghai'),
      logger: captureLogger().logger,
    });
    await purge.run();

    const bytes = bytesOnDisk(file);
    expect(contains(bytes, question)).toBe(false);
    expect(contains(bytes, answer)).toBe(false);
    expect(contains(bytes, live)).toBe(true); // a conversation still in use keeps its history
    expect(await storage.sessions.get('dm:live')).toBeDefined();
    const ids: string[] = [];
    for await (const r of storage.policy.audit.between(0, Number.MAX_SAFE_INTEGER)) ids.push(r.id);
    expect(ids).toEqual(['recent']);
  });

  it('keeps transcripts for the review period and deletes them after it', async () => {
    const file = tempFile();
    const storage = await open(file);
    const now = Date.now();
    const kept = `复核期内-${randomUUID()}`;
    const expired = `复核期已过-${randomUUID()}`;
    const entry = { user: 'u_x', role: 'student' as const, conversation: 'dm' as const, answer: 'a' };
    await storage.policy.transcripts.append({ ...entry, id: 'kept', at: now - 6 * DAY, question: kept });
    await storage.policy.transcripts.append({ ...entry, id: 'expired', at: now - 8 * DAY, question: expired });
    const purge = new RetentionPurge({ storage, retention: { auditDays: 180, transcriptDays: 7 }, clock: new SchoolClock('UTC'), logger: captureLogger().logger });
    await purge.run();
    const bytes = bytesOnDisk(file);
    expect(contains(bytes, kept)).toBe(true);
    expect(contains(bytes, expired)).toBe(false);
  });

  it('(control) without secure_delete, a deleted row stays readable in the file: the setting is what removes it', async () => {
    const file = tempFile().replace('data/', '');
    const text = `没有安全删除-${randomUUID()}`;
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    });
    const run = (sql: string, params: unknown[] = []) => new Promise<void>((resolve, reject) => db.run(sql, params, (err) => (err ? reject(err) : resolve())));
    await run('PRAGMA secure_delete=OFF');
    await run('PRAGMA journal_mode=WAL');
    await run('CREATE TABLE t (x TEXT)');
    await run('INSERT INTO t VALUES (?)', [text]);
    await run('DELETE FROM t');
    await run('PRAGMA wal_checkpoint(TRUNCATE)');
    await new Promise<void>((resolve) => db.close(() => resolve()));
    expect(contains(bytesOnDisk(file), text)).toBe(true);
  });
});

describe('file modes', () => {
  it('creates the data folder 0700 and the database, WAL and shm files 0600', async () => {
    const file = tempFile();
    const storage = await open(file);
    await storage.sessions.set('dm:a', { backend: 'x', state: {}, lastActiveAt: 0 }, 60_000);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(f)).toBe(true);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
  });

  it('narrows an existing database file to 0600', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'modes-'));
    const file = path.join(dir, 'old.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    await open(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
