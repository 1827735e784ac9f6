import winston from 'winston';
import { DailyLogFile } from './log-file.js';
import { jsonLine, prettyLine } from './log-lines.js';

export type Logger = winston.Logger;

export type LogFormat = 'json' | 'pretty';

/** Short-lived secrets kept at once (tokens, tickets); past this the one expiring first goes. */
const MAX_EXPIRING_SECRETS = 64;

/**
 * Secrets the logger must never print. The app secret and API keys are added at start-up and
 * kept; access tokens and Stream tickets are added the moment they are received, with their
 * expiry, and dropped once expired, so the set stays small however long the process runs.
 */
export class SecretRedactor {
  private readonly kept = new Set<string>();
  /** Secret → epoch ms after which it is no longer worth redacting. */
  private readonly expiring = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds a secret; with `expiresAt` it is forgotten after that time (tokens, tickets). */
  add(secret: string | undefined, options: { readonly expiresAt?: number } = {}): void {
    // Very short values would redact ordinary words; real secrets are long.
    if (!secret || secret.length < 6 || this.kept.has(secret)) return;
    if (options.expiresAt === undefined) {
      this.expiring.delete(secret);
      this.kept.add(secret);
      return;
    }
    this.dropExpired();
    this.expiring.set(secret, Math.max(options.expiresAt, this.expiring.get(secret) ?? 0));
    if (this.expiring.size > MAX_EXPIRING_SECRETS) this.expiring.delete(this.soonestExpiring()!);
  }

  /** Secrets held now (tests: the set stays bounded). */
  get size(): number {
    this.dropExpired();
    return this.kept.size + this.expiring.size;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.kept) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    for (const s of this.expiring.keys()) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out;
  }

  private dropExpired(): void {
    const t = this.now();
    for (const [secret, expiresAt] of this.expiring) if (expiresAt <= t) this.expiring.delete(secret);
  }

  private soonestExpiring(): string | undefined {
    let soonest: [string, number] | undefined;
    for (const entry of this.expiring) if (!soonest || entry[1] < soonest[1]) soonest = entry;
    return soonest?.[0];
  }
}

export interface LoggerOptions {
  readonly level: string;
  /** LOG_FILE: JSON lines, one file per day (`name-YYYY-MM-DD.ext`), mode 0600. */
  readonly file?: string;
  /** LOG_RETENTION_DAYS: daily files older than this are deleted (default 14). */
  readonly retentionDays?: number;
  /** Console format; undefined: pretty on a terminal, JSON otherwise (PM2, systemd, pipes). */
  readonly format?: LogFormat;
  readonly redactor: SecretRedactor;
  /** Extra transports (tests capture log lines as data); JSON unless `format` says otherwise. */
  readonly transports?: winston.transport[];
  /** Silence the console (tests). */
  readonly console?: boolean;
}

/**
 * The longest string value a line may carry. Client-supplied strings are clipped much shorter
 * where they are logged (CLIENT_TEXT_MAX_CHARS); this bounds every line whatever its source.
 */
export const MAX_LOGGED_STRING_CHARS = 32 * 1024;

/** Cuts `text` to `max` characters, saying how much was cut (a bounded log line). */
export function clipForLog(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length - max} more characters)`;
}

/** Scrubs every string in the log record, so a secret inside an error message is caught too. */
const redactFormat = winston.format((info, options?: unknown) => {
  const opts = options as { redactor: SecretRedactor };
  const scrub = (text: string) => clipForLog(opts.redactor.redact(text), MAX_LOGGED_STRING_CHARS);
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (depth > 4 || v === null || typeof v !== 'object') return v;
    if (v instanceof Error) return scrub(v.stack ?? v.message);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, depth + 1)]));
  };
  for (const key of Object.keys(info)) {
    (info as Record<string, unknown>)[key] = walk((info as Record<string, unknown>)[key], 0);
  }
  return info;
});

/** Every line starts with time, level and message; the redactor runs before any format. */
export function createLogger(options: LoggerOptions): Logger {
  const base = winston.format.combine(
    winston.format.errors({ stack: false }),
    winston.format.timestamp({ alias: 'time' }),
    winston.format((info) => {
      delete (info as Record<string, unknown>).timestamp;
      return info;
    })(),
    redactFormat({ redactor: options.redactor }),
  );
  const line = (format: LogFormat) => (format === 'pretty' ? prettyLine() : jsonLine());
  const transports: winston.transport[] = [];
  for (const t of options.transports ?? []) {
    t.format ??= line(options.format ?? 'json');
    transports.push(t);
  }
  if (options.console !== false) {
    const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
    transports.push(new winston.transports.Console({ format: line(format) }));
  }
  const file = options.file ? new DailyLogFile({ file: options.file, retentionDays: options.retentionDays ?? 14 }) : undefined;
  if (file) transports.push(file);
  const logger = winston.createLogger({ level: options.level, format: base, transports, exitOnError: false });
  skipDisabledLevels(logger);
  file?.on('dropped', (count: number) => logger.warn('LOG_FILE could not keep up; lines were dropped', { droppedLines: count }));
  file?.on('failed', (err: Error) =>
    logger.error('LOG_FILE cannot be written; its lines are dropped and it is tried again in a minute', { err: String(err) }),
  );
  return logger;
}

/**
 * winston formats every record (timestamp, the redactor's walk) before its transports drop the
 * ones below their level; a debug or info line at LOG_LEVEL=warn then costs as much as a written
 * one. Child loggers write through the root's `write`, so one gate here covers them all.
 */
function skipDisabledLevels(logger: Logger): void {
  const write = logger.write.bind(logger);
  const level = Symbol.for('level'); // triple-beam's LEVEL, which every winston record carries
  logger.write = ((info: winston.Logform.TransformableInfo & { [level]?: string }) =>
    logger.isLevelEnabled(info[level] ?? info.level) ? write(info) : true) as Logger['write'];
}

/** Starts new LOG_FILE files (SIGHUP / SIGUSR2, after logrotate moved the old ones away). */
export function reopenLogFiles(logger: Logger): number {
  const files = logger.transports.filter((t): t is DailyLogFile => t instanceof DailyLogFile);
  for (const file of files) file.reopen();
  return files.length;
}

/**
 * Resolves once every transport has written what it was given (graceful stop): the logger's
 * own 'finish', then the daily files closed (they finish only after the bytes reached the file).
 */
export function flushLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  const files = logger.transports.filter((t): t is DailyLogFile => t instanceof DailyLogFile);
  const flushed = new Promise<void>((resolve) => logger.once('finish', () => resolve())).then(() =>
    Promise.all(files.map((file) => file.flush())),
  );
  logger.end();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void flushed.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
