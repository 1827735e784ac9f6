import winston from 'winston';

export type Logger = winston.Logger;

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
  readonly file?: string;
  readonly redactor: SecretRedactor;
  /** Extra transports (tests capture log lines as data). */
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

/** JSON lines with `level`, `time` and `msg`, plus whatever fields the call site adds. */
export function createLogger(options: LoggerOptions): Logger {
  const format = winston.format.combine(
    winston.format.errors({ stack: false }),
    winston.format.timestamp({ alias: 'time' }),
    redactFormat({ redactor: options.redactor }),
    winston.format((info) => {
      delete (info as Record<string, unknown>).timestamp;
      return info;
    })(),
    winston.format.json(),
  );
  const transports: winston.transport[] = [...(options.transports ?? [])];
  if (options.console !== false) transports.push(new winston.transports.Console());
  if (options.file) transports.push(new winston.transports.File({ filename: options.file }));
  return winston.createLogger({ level: options.level, format, transports, exitOnError: false });
}

/** Resolves once every transport has written what it was given (graceful stop). */
export function flushLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    logger.on('finish', () => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
}
