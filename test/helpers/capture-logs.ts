import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, type Logger, SecretRedactor } from '../../src/logger.js';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly redactor: SecretRedactor;
  /** Every log line as written (JSON text), in order. */
  readonly lines: string[];
  /** The lines parsed. */
  records(): Array<Record<string, unknown>>;
}

/**
 * A real winston logger (same format as production) that writes into an array; `level` is the
 * logger's LOG_LEVEL, `transportLevel` the array's own level (default: none of its own).
 */
export function captureLogger(redactor = new SecretRedactor(), level = 'debug', transportLevel?: string): CapturedLogs {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
      done();
    },
  });
  const logger = createLogger({
    level,
    redactor,
    console: false,
    transports: [new winston.transports.Stream({ stream: sink, level: transportLevel })],
  });
  return { logger, redactor, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
