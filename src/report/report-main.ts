import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import dotenv from 'dotenv';
import { ConfigError, loadConfig, type ConfigFileReader } from '../config/config.js';
import { readConfigFileFromDisk } from '../config/policy-env.js';
import { SchoolClock } from '../policy/school-clock.js';
import type { AuditTrail } from '../storage/audit-trail.js';
import { redactRedisUrl } from '../storage/redis/redis-url.js';
import { SqliteAuditTrail } from '../storage/sqlite/sqlite-audit-trail.js';
import { SqliteConnection } from '../storage/sqlite/sqlite-connection.js';
import { renderReportCsv, renderReportText } from './render-report.js';
import { reportFromRedis } from './redis-audit-source.js';
import { buildUsageReport } from './usage-report.js';

const DAY_MS = 24 * 60 * 60_000;
const USAGE = 'Usage: npm run report -- [--days N] [--csv]\n  --days N  the last N school days, today included (default 7)\n  --csv     one line per day, role, conversation, group and outcome, for a spreadsheet\n';

export interface ReportIo {
  out(text: string): void;
  err(text: string): void;
  readonly now?: () => number;
  readonly readFile?: ConfigFileReader;
}

/**
 * `npm run report -- --days 7 [--csv]`: usage from the audit trail (no question text exists
 * there to print). Reads the database named by SESSION_STORAGE, read-only, beside a running
 * service. Resolves the exit code: 0, 1 (no data / config), 2 (bad arguments).
 */
export async function runReport(argv: readonly string[], env: Record<string, string | undefined>, io: ReportIo): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.err(`${args}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig(env, { readFile: io.readFile ?? readConfigFileFromDisk });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${err.message}\n`);
    return 1;
  }
  const clock = new SchoolClock(config.policy.fairUse.timeZone, io.now);
  if (/^rediss?:\/\//.test(config.sessions.storage)) {
    return reportFromRedis(config.sessions.storage, config.redis.keyPrefix, (audit) => render(audit, clock, args, io)).catch((err: unknown) => {
      io.err(`${err instanceof Error ? err.message : String(err)}\n`); // the address without its password
      return 1;
    });
  }
  const file = /^sqlite:\/\/(.+)$/.exec(config.sessions.storage)?.[1];
  if (!file || file === ':memory:') {
    io.err(`The report reads the audit trail from a SQLite file or Redis; SESSION_STORAGE is ${redactRedisUrl(config.sessions.storage)}.\n`);
    return 1;
  }
  if (!existsSync(file)) {
    io.err(`No database at ${file} (SESSION_STORAGE): has the service run here yet?\n`);
    return 1;
  }
  const db = await SqliteConnection.open({ file, busyTimeoutMs: 5_000, readOnly: true });
  try {
    return await render(new SqliteAuditTrail(db), clock, args, io);
  } catch (err) {
    if (!/no such table/.test(String(err))) throw err;
    io.err(`No audit trail in ${file} yet: it starts with the first question after this version is installed.\n`);
    return 1;
  } finally {
    await db.close();
  }
}

/** The report over the last `args.days` school days of `audit`, printed as text or CSV. */
async function render(audit: Pick<AuditTrail, 'between'>, clock: SchoolClock, args: { days: number; csv: boolean }, io: ReportIo): Promise<number> {
  const now = clock.now();
  const days = { from: clock.at(now - (args.days - 1) * DAY_MS).date, to: clock.at(now).date };
  const report = await buildUsageReport(audit.between(now - (args.days + 1) * DAY_MS, now + DAY_MS), clock, days);
  io.out(args.csv ? renderReportCsv(report) : renderReportText(report));
  return 0;
}

function parseArgs(argv: readonly string[]): { days: number; csv: boolean; help: boolean } | string {
  const out = { days: 7, csv: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--csv') out.csv = true;
    else if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--days' || arg.startsWith('--days=')) {
      const value = arg === '--days' ? argv[++i] : arg.slice('--days='.length);
      const days = Number(value);
      if (!Number.isInteger(days) || days < 1 || days > 3650) return `--days must be a whole number from 1 to 3650, got ${value ?? 'nothing'}`;
      out.days = days;
    } else return `Unknown argument ${arg}`;
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  dotenv.config({ quiet: true });
  runReport(process.argv.slice(2), process.env, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) })
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      process.stderr.write(`report failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
