import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DailyLogFile } from '../../src/log-file.js';
import { createLogger, flushLogger, type Logger, SecretRedactor } from '../../src/logger.js';
import { lineCollector, todaysLogFile } from '../helpers/log-files.js';
import { waitFor } from '../helpers/stream-harness.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function fileLogger(dir: string): { logger: Logger; file: DailyLogFile; console: string[] } {
  const console = lineCollector();
  const logger = createLogger({
    level: 'info',
    file: path.join(dir, 'bridge.log'),
    redactor: new SecretRedactor(),
    console: false,
    transports: [console.transport],
  });
  const file = logger.transports.find((t): t is DailyLogFile => t instanceof DailyLogFile)!;
  return { logger, file, console: console.lines };
}

describe('a LOG_FILE that cannot keep up', () => {
  it('drops lines and counts them instead of queueing them in memory, and says so in a later line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stalled-log-'));
    const today = todaysLogFile(dir);
    // A FIFO nobody reads yet: the file cannot even be opened, like a disk that stopped answering.
    execFileSync('mkfifo', [today]);
    cleanups.push(() => closeSync(openSync(today, 'r+'))); // never leave a writer blocked on it
    const { logger, file } = fileLogger(dir);
    const url = `/${'a'.repeat(1_000)}`;
    for (let i = 0; i < 20_000; i++) logger.info('http request', { url, status: 404 });
    // 20 MB of lines were logged; at most the bound waits for the disk.
    expect(file.backlogBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(file.droppedLines).toBeGreaterThan(15_000);
    const dropped = file.droppedLines;

    let text = '';
    const reader = createReadStream(today, { encoding: 'utf8' });
    reader.on('data', (chunk) => (text += chunk));
    cleanups.push(() => reader.destroy());
    await waitFor(() => text.includes('LOG_FILE could not keep up'), 10_000, 'the line about dropped lines');
    const report = text
      .split('\n')
      .filter((l) => l.includes('LOG_FILE could not keep up'))
      .map((l) => JSON.parse(l) as { level: string; droppedLines: number })[0]!;
    expect(report).toMatchObject({ level: 'warn', droppedLines: dropped });
    expect(file.backlogBytes).toBeLessThan(1024 * 1024);
    logger.info('after the stall');
    await waitFor(() => text.includes('after the stall'), 5_000, 'lines to flow again');
    await flushLogger(logger);
  }, 20_000);

  it('a file that cannot be written at all is reported on the other transports, and the process carries on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'broken-log-'));
    mkdirSync(todaysLogFile(dir)); // a folder where today's file should be: every open fails
    const { logger, file, console } = fileLogger(dir);
    logger.info('one line');
    await waitFor(() => console.some((l) => l.includes('LOG_FILE cannot be written')), 5_000, 'the failure to be reported');
    for (let i = 0; i < 100; i++) logger.info('more lines');
    expect(file.droppedLines).toBeGreaterThanOrEqual(100);
    expect(console.filter((l) => l.includes('more lines'))).toHaveLength(100);
    await flushLogger(logger);
  });
});
