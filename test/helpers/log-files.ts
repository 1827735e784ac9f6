import { Writable } from 'node:stream';
import path from 'node:path';
import winston from 'winston';

/** The file LOG_FILE=<dir>/bridge.log writes today (the server's local date). */
export function todaysLogFile(dir: string): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return path.join(dir, `bridge-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}.log`);
}

/** A transport that keeps the lines it is given (as the console would show them). */
export function lineCollector(): { transport: winston.transport; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line);
      done();
    },
  });
  return { transport: new winston.transports.Stream({ stream: sink }), lines };
}
