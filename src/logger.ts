import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import { jsonLine, prettyLine } from './log-lines.js';

export type Logger = winston.Logger;

export type LogFormat = 'json' | 'pretty';

/**
 * Secrets the logger must never print. The app secret and API keys are added at start-up;
 * access tokens and Stream tickets are added the moment they are received.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    // Very short values would redact ordinary words; real secrets are long.
    if (secret && secret.length >= 6) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out;
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

/** Scrubs every string in the log record, so a secret inside an error message is caught too. */
const redactFormat = winston.format((info, options?: unknown) => {
  const opts = options as { redactor: SecretRedactor };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return opts.redactor.redact(v);
    if (depth > 4 || v === null || typeof v !== 'object') return v;
    if (v instanceof Error) return opts.redactor.redact(v.stack ?? v.message);
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
  if (options.file) transports.push(dailyFile(options.file, options.retentionDays ?? 14));
  return winston.createLogger({ level: options.level, format: base, transports, exitOnError: false });
}

/**
 * LOG_FILE rotated daily: `logs/bridge.log` writes `logs/bridge-2026-11-24.log` (a `%DATE%` in
 * the name is used as is). Students' questions must not live in files forever, so files older
 * than the retention are deleted; new files are readable by the service's user only.
 */
function dailyFile(file: string, retentionDays: number): winston.transport {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  const filename = file.includes('%DATE%') ? file : path.join(dir, `${stem}-%DATE%${ext}`);
  return new DailyRotateFile({
    filename,
    datePattern: 'YYYY-MM-DD',
    maxFiles: `${retentionDays}d`,
    auditFile: path.join(dir, `.${stem.replace('%DATE%', '')}-audit.json`),
    options: { flags: 'a', mode: 0o600 },
    format: jsonLine(),
  });
}

/**
 * Resolves once every transport has written what it was given (graceful stop): the logger's
 * own 'finish', then the daily files' streams closed (their 'finish' comes only after the
 * bytes reached the file).
 */
export function flushLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  const files = logger.transports.filter((t): t is DailyRotateFile => t instanceof DailyRotateFile);
  const flushed = new Promise<void>((resolve) => logger.once('finish', () => resolve())).then(() =>
    Promise.all(
      files.map(
        (file) =>
          new Promise<void>((resolve) => {
            file.once('finish', () => resolve());
            file.close?.();
          }),
      ),
    ),
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
