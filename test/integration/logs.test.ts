import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import winston from 'winston';
import { createLogger, flushLogger, SecretRedactor, type LogFormat } from '../../src/logger.js';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';
import { startStreamHarness, waitFor, type StreamHarness } from '../helpers/stream-harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'Secret-Value-9f8e7d6c5b4a';

function capture(format: LogFormat) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.trim()));
      done();
    },
  });
  const redactor = new SecretRedactor();
  redactor.add(SECRET);
  const logger = createLogger({
    level: 'debug',
    format,
    redactor,
    console: false,
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  return { logger, lines };
}

describe('log lines', () => {
  it('JSON lines start with time, level and message, and the secret is redacted', () => {
    const { logger, lines } = capture('json');
    logger.child({ msgId: 'm1' }).warn('token refresh failed', { err: new Error(`bad ${SECRET}`), detail: { key: SECRET } });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(record).slice(0, 3)).toEqual(['time', 'level', 'message']);
    expect(record).toMatchObject({ level: 'warn', message: 'token refresh failed', msgId: 'm1' });
    expect(new Date(String(record.time)).getTime()).toBeGreaterThan(0);
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).toContain('[REDACTED]');
  });

  it('pretty lines: one line per event starting with local time, level and message; redacted too', () => {
    const { logger, lines } = capture('pretty');
    logger.info('ready', { url: 'http://127.0.0.1:5000', assistant: 'openai' });
    logger.error('two\nlines', { err: new Error(`with ${SECRET}\nand a stack`), note: 'has spaces' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}ready url=http:\/\/127\.0\.0\.1:5000 assistant=openai$/);
    expect(lines[1]).toMatch(/^\S+ \S+ ERROR two\\nlines err="Error: with \[REDACTED\]\\nand a stack/);
    expect(lines[1]).toContain('note="has spaces"');
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('the console is pretty on a terminal and JSON when piped (PM2, systemd)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tty-'));
    const script = path.join(dir, 'log.mjs');
    writeFileSync(
      script,
      `import { createLogger, SecretRedactor } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/logger.ts')).href)};\n` +
        `createLogger({ level: 'info', redactor: new SecretRedactor() }).info('hello from the logger');\n`,
    );
    const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const node = `${JSON.stringify(process.execPath)} --import ${loader} ${JSON.stringify(script)}`;
    const piped = await run('sh', ['-c', node]);
    // `script` gives the child a pseudo-terminal, as an operator's shell would.
    const onTty = await run('script', ['-qec', node, '/dev/null']);
    expect(JSON.parse(piped.trim())).toMatchObject({ level: 'info', message: 'hello from the logger' });
    expect(onTty.trim()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}hello from the logger$/);
  }, 20_000);
});

describe('LOG_FILE', () => {
  it('writes JSON lines to a dated file readable by the owner only, and deletes files past LOG_RETENTION_DAYS', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'logfile-'));
    const now = Date.now();
    const day = 86_400_000;
    // Two files an earlier process wrote and recorded in the rotation audit: 20 and 10 days old.
    const old = seededLog(dir, 'bridge-old20.log', now - 20 * day);
    const recent = seededLog(dir, 'bridge-old10.log', now - 10 * day);
    writeFileSync(
      path.join(dir, '.bridge-audit.json'),
      JSON.stringify({ keep: { days: true, amount: 14 }, auditLog: path.join(dir, '.bridge-audit.json'), files: [old, recent], hashType: 'sha256' }),
    );
    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    const logger = createLogger({ level: 'info', file: path.join(dir, 'bridge.log'), retentionDays: 14, redactor, console: false, format: 'pretty' });
    logger.info('written to the file', { key: SECRET });
    await flushLogger(logger);
    await waitFor(() => !existsSync(old.name), 5_000, 'the 20-day-old file to be deleted');

    const today = readdirSync(dir).filter((f) => /^bridge-\d{4}-\d\d-\d\d\.log$/.test(f));
    expect(today).toHaveLength(1);
    const file = path.join(dir, today[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const record = JSON.parse(readFileSync(file, 'utf8').trim()) as Record<string, unknown>;
    expect(Object.keys(record).slice(0, 3)).toEqual(['time', 'level', 'message']); // files are JSON whatever the console shows
    expect(record.key).toBe('[REDACTED]');
    expect(existsSync(recent.name)).toBe(true);
  });
});

describe('students\' words are logged at debug only', () => {
  const open: Array<HttpHarness | StreamHarness> = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });

  it('questions and answers over HTTP and chat appear in debug lines and nowhere else', async () => {
    const http = await startHttpHarness();
    open.push(http);
    expect((await http.ask({ question: 'Quokka-HTTP question about cells' })).status).toBe(200);
    // A body that is not JSON: the parser's message would quote it.
    expect((await http.ask('Quokka-JSON is this photosynthesis')).status).toBe(400);

    const chat = await startStreamHarness();
    open.push(chat);
    chat.gateway.push(chat.robot.robotMessage({ conversationId: 'cidLogs', text: 'Quokka-CHAT what is a cell?' }));
    await waitFor(() => chat.robot.replies.length === 1, 10_000, 'the chat answer');

    const records = [...http.logs.records(), ...chat.logs.records()];
    const mentions = (r: Record<string, unknown>) => JSON.stringify(r).includes('Quokka-');
    expect(records.filter((r) => r.level !== 'debug' && mentions(r))).toEqual([]);
    const debug = records.filter((r) => r.level === 'debug' && mentions(r)).map((r) => JSON.stringify(r));
    expect(debug.some((l) => l.includes('Quokka-HTTP question'))).toBe(true);
    expect(debug.some((l) => l.includes('Quokka-CHAT what'))).toBe(true);
    expect(debug.some((l) => l.includes('"answer text"'))).toBe(true);
  });
});

function seededLog(dir: string, name: string, date: number) {
  const file = path.join(dir, name);
  writeFileSync(file, '{"message":"old"}\n');
  const hash = createHash('sha256').update(`${file}LOG_FILE${date}`).digest('hex');
  return { date, name: file, hash };
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited with ${code}: ${out}`));
    });
  });
}
