import winston from 'winston';

/** The keys every line starts with, in this order; the call site's fields follow. */
const FIRST = ['time', 'level', 'message'] as const;
const MESSAGE = Symbol.for('message');

type Info = Record<string, unknown>;

/** JSON lines whose first keys are time, level and message (machines and `grep` alike). */
export const jsonLine = winston.format((info) => {
  const record = info as Info;
  const ordered: Info = { time: record.time, level: record.level, message: record.message };
  for (const [k, v] of Object.entries(record)) if (!FIRST.includes(k as never)) ordered[k] = v;
  record[MESSAGE as never] = safeStringify(ordered);
  return info;
});

/**
 * One line per event for people: local time, level, message, then `key=value` fields. Values
 * with spaces or quotes are JSON-quoted, so a newline inside a value never breaks the line.
 */
export const prettyLine = winston.format((info) => {
  const record = info as Info;
  const fields = Object.entries(record)
    .filter(([k, v]) => !FIRST.includes(k as never) && v !== undefined)
    .map(([k, v]) => `${k}=${prettyValue(v)}`);
  const level = String(record.level).toUpperCase().padEnd(5);
  const message = String(record.message ?? '').replace(/\r?\n/g, '\\n');
  record[MESSAGE as never] = [localTime(record.time), level, message, ...fields].join(' ');
  return info;
});

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"'=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return safeStringify(value);
}

/** `2026-11-24 13:05:01.123` in the server's time zone (what the IT teacher's clock says). */
function localTime(time: unknown): string {
  const d = typeof time === 'string' ? new Date(time) : new Date();
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** JSON.stringify that survives cycles and bigints instead of throwing inside a log call. */
function safeStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[Circular]';
      seen.add(v);
    }
    return v;
  });
}
