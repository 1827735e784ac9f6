import type { RedisConnection, RedisScript } from './redis-connection.js';

// KEYS: log (sorted set by time), ids (hash id → time). ARGV: id, at, member.
// A record whose id was appended before is ignored (a replayed question is recorded once).
const APPEND = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1`;

// KEYS: log, ids. ARGV: before. Deletes the records older than `before`, and their ids.
const DELETE_BEFORE = `
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, member in ipairs(old) do
  redis.call('HDEL', KEYS[2], string.sub(member, 1, string.find(member, '\\n', 1, true) - 1))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
return #old`;

const PAGE = 1_000;

/**
 * An append-only log of records by time in Redis, shared by every instance (the audit trail,
 * review transcripts): a sorted set scored by the record's time whose members are
 * `<id>\n<JSON>`, plus a hash of the ids so a record is written once. Read in pages, oldest
 * first; trimmed by time. Appends are sent at once; `flush` waits for those on their way.
 */
export class RedisTimeLog<T extends { readonly id: string; readonly at: number }> {
  private readonly appendScript: RedisScript;
  private readonly deleteScript: RedisScript;
  private readonly logKey: string;
  private readonly idsKey: string;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly connection: RedisConnection,
    name: string,
    /** Told when an append failed (it is not retried). */
    private readonly onWriteError: (err: unknown) => void = () => undefined,
    /** Shapes a record as it is stored (e.g. whole milliseconds, as the SQLite table keeps them). */
    private readonly normalize: (record: T) => T = (record) => record,
  ) {
    this.appendScript = connection.script(APPEND, 2);
    this.deleteScript = connection.script(DELETE_BEFORE, 2);
    this.logKey = connection.key(name);
    this.idsKey = connection.key(`${name}-ids`);
  }

  /** Sends the record; never throws (a failure goes to `onWriteError`, like a batched write's). */
  append(input: T): Promise<void> {
    const record = this.normalize(input);
    const member = `${record.id}\n${JSON.stringify(record)}`;
    const sent = this.connection
      .run(`appending to ${this.logKey} failed`, () => this.appendScript([this.logKey, this.idsKey], [record.id, record.at, member]))
      .catch(this.onWriteError);
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** Records with `from <= at < to`, oldest first, a page at a time. */
  async *between(from: number, to: number): AsyncIterable<T> {
    await this.flush();
    for (let offset = 0; ; offset += PAGE) {
      const members = await this.connection.run(`reading ${this.logKey} failed`, (r) =>
        r.zrangebyscore(this.logKey, from, `(${to}`, 'LIMIT', offset, PAGE),
      );
      for (const member of members) {
        const record = parse<T>(member);
        if (record) yield record;
      }
      if (members.length < PAGE) return;
    }
  }

  async deleteBefore(before: number): Promise<number> {
    await this.flush();
    const deleted = await this.connection.run(`trimming ${this.logKey} failed`, () => this.deleteScript([this.logKey, this.idsKey], [before]));
    return Number(deleted);
  }
}

function parse<T>(member: string): T | undefined {
  try {
    return JSON.parse(member.slice(member.indexOf('\n') + 1)) as T;
  } catch {
    return undefined;
  }
}
