import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EventEmitter } from 'node:events';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import DailyRotateFile from 'winston-daily-rotate-file';
import { jsonLine } from './log-lines.js';

const MESSAGE = Symbol.for('message');
/** winston's transport base class (its typings only name the module). */
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;

/** Lines waiting for the disk beyond this are dropped: a few seconds of a busy service. */
export const DEFAULT_MAX_BACKLOG_BYTES = 4 * 1024 * 1024;
/** After a write error the file is tried again this much later. */
const RETRY_AFTER_FAILURE_MS = 60_000;

export interface DailyLogFileOptions {
  /** LOG_FILE: `logs/bridge.log` writes `logs/bridge-2026-11-24.log` (a `%DATE%` in the name is used as is). */
  readonly file: string;
  /** LOG_RETENTION_DAYS: files older than this are deleted. */
  readonly retentionDays: number;
  /** Bytes of lines that may wait for the disk; more are dropped and counted. */
  readonly maxBacklogBytes?: number;
}

/** Bytes handed to one open file and not yet written by it. */
interface Backlog {
  bytes: number;
}

/**
 * LOG_FILE, one file per day (winston-daily-rotate-file), with a bound on what waits for the
 * disk. A file that cannot keep up (a slow or stalled disk under a flood of requests) drops
 * lines and counts them instead of queueing them in memory; once it has caught up it emits
 * `dropped` with the count, and the logger says so in a line. A file that fails (disk full,
 * folder gone) drops lines too, emits `failed` once, and is tried again a minute later.
 * `reopen()` starts writing to fresh files (SIGHUP, after logrotate moved the old ones away).
 */
export class DailyLogFile extends Transport {
  private file: DailyRotateFile;
  private backlog: Backlog = { bytes: 0 };
  private dropped = 0;
  private failure: Error | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly maxBacklog: number;

  constructor(private readonly options: DailyLogFileOptions) {
    super({ format: jsonLine() });
    this.maxBacklog = options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
    this.file = this.open();
  }

  /** Bytes of lines waiting for the disk now (tests, the bench). */
  get backlogBytes(): number {
    return this.backlog.bytes;
  }

  /** Lines dropped since the last `dropped` report. */
  get droppedLines(): number {
    return this.dropped;
  }

  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    const line = `${String(info[MESSAGE])}${os.EOL}`;
    const bytes = Buffer.byteLength(line);
    if (this.failure || this.backlog.bytes + bytes > this.maxBacklog) {
      this.dropped++;
    } else {
      this.backlog.bytes += bytes;
      this.file.log!(info, () => undefined);
    }
    callback();
  }

  /** Closes the files and opens them again by name (after logrotate renamed them). */
  reopen(): void {
    const old = this.file;
    this.failure = undefined;
    clearTimeout(this.retryTimer);
    this.file = this.open();
    old.close?.();
  }

  /** Resolves once every line handed over has reached the file (graceful stop). */
  flush(): Promise<void> {
    clearTimeout(this.retryTimer);
    const file = this.file;
    return new Promise((resolve) => {
      file.once('finish', () => resolve());
      file.close?.();
    });
  }

  private open(): DailyRotateFile {
    const backlog: Backlog = { bytes: 0 };
    this.backlog = backlog;
    const file = dailyRotateFile(this.options, countingFs(backlog, () => this.caughtUp(backlog)));
    // Without a listener a write error (disk full) would be thrown from the stream and end the process.
    (file as unknown as { logStream: EventEmitter }).logStream.on('error', (err: Error) => this.failed(file, err));
    return file;
  }

  private caughtUp(backlog: Backlog): void {
    if (this.dropped === 0 || backlog !== this.backlog || backlog.bytes > this.maxBacklog / 4) return;
    const count = this.dropped;
    this.dropped = 0;
    // Outside the write callback: the report is itself a line for this file.
    setImmediate(() => this.emit('dropped', count));
  }

  private failed(file: DailyRotateFile, err: Error): void {
    if (file !== this.file || this.failure) return;
    this.failure = err;
    this.emit('failed', err);
    this.retryTimer = setTimeout(() => this.reopen(), RETRY_AFTER_FAILURE_MS);
    this.retryTimer.unref();
  }
}

/** Students' questions must not live in files forever: files past the retention are deleted; new files are 0600. */
function dailyRotateFile(options: DailyLogFileOptions, counting: object): DailyRotateFile {
  const { file, retentionDays } = options;
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  const filename = file.includes('%DATE%') ? file : path.join(dir, `${stem}-%DATE%${ext}`);
  return new DailyRotateFile({
    filename,
    datePattern: 'YYYY-MM-DD',
    maxFiles: `${retentionDays}d`,
    auditFile: path.join(dir, `.${stem.replace('%DATE%', '')}-audit.json`),
    // `fs` is handed to fs.createWriteStream: its write calls report what has reached the file.
    options: { flags: 'a', mode: 0o600, fs: counting },
  });
}

type WriteCallback = (err: NodeJS.ErrnoException | null, written?: number, ...rest: unknown[]) => void;

/** The file system calls of a write stream, counting the bytes each write completes. */
function countingFs(backlog: Backlog, onWritten: () => void): object {
  const done = (cb: WriteCallback): WriteCallback => (err, written, ...rest) => {
    backlog.bytes = Math.max(0, backlog.bytes - (written ?? 0));
    onWritten();
    cb(err, written, ...rest);
  };
  return {
    open: fs.open,
    close: fs.close,
    write: (fd: number, buffer: Buffer, offset: number, length: number, position: number | null, cb: WriteCallback) =>
      fs.write(fd, buffer, offset, length, position, done(cb)),
    writev: (fd: number, buffers: Buffer[], position: number | null, cb: WriteCallback) => fs.writev(fd, buffers, position, done(cb)),
  };
}
