import type { QuotaStore, QuotaUsage } from '../quota-store.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';

// KEYS: the (subject, day) hash, the index of days. ARGV: limit, index member.
// Checks and counts in one step: two instances never both take the last question.
const TAKE = `
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
local granted = tonumber(redis.call('HGET', KEYS[1], 'granted') or '0')
if used >= tonumber(ARGV[1]) + granted then return false end
redis.call('HINCRBY', KEYS[1], 'used', 1)
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return {used + 1, granted}`;

// KEYS: the (subject, day) hash.
const GIVE_BACK = `
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
if used > 0 then redis.call('HINCRBY', KEYS[1], 'used', -1) end
return 1`;

// KEYS: the index of days. ARGV: key prefix, first day kept. Deletes every earlier day.
const DELETE_BEFORE = `
local old = redis.call('ZRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[2])
for _, member in ipairs(old) do redis.call('DEL', ARGV[1] .. member) end
if #old > 0 then redis.call('ZREMRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[2]) end
return #old`;

/**
 * Daily question counts in Redis, shared by every instance: one hash per (day, subject) with
 * `used` and `granted`, indexed by day (`<day>\n<subject>`, so earlier days are found by range).
 * Every change is one atomic step in Redis; nothing is kept in memory.
 */
export class RedisQuotaStore implements QuotaStore {
  private readonly takeScript: RedisScript;
  private readonly giveBackScript: RedisScript;
  private readonly deleteScript: RedisScript;
  private readonly indexKey: string;

  constructor(private readonly connection: RedisConnection) {
    this.takeScript = connection.script(TAKE, 2);
    this.giveBackScript = connection.script(GIVE_BACK, 1);
    this.deleteScript = connection.script(DELETE_BEFORE, 1);
    this.indexKey = connection.key('quota-days');
  }

  async take(subject: string, day: string, limit: number): Promise<QuotaUsage | undefined> {
    if (limit < 1) return undefined;
    const reply = await this.connection.run('counting a question against the daily quota failed', () =>
      this.takeScript([this.keyOf(subject, day), this.indexKey], [limit, member(subject, day)]),
    );
    if (!Array.isArray(reply)) return undefined;
    return { used: Number(reply[0]), granted: Number(reply[1]) };
  }

  async giveBack(subject: string, day: string): Promise<void> {
    await this.connection.run('giving a question back failed', () => this.giveBackScript([this.keyOf(subject, day)], []));
  }

  async grant(subject: string, day: string, extra: number): Promise<QuotaUsage> {
    const key = this.keyOf(subject, day);
    await this.connection.run('granting extra questions failed', async (r) => {
      const results = await r.multi().hincrby(key, 'granted', extra).zadd(this.indexKey, 0, member(subject, day)).exec();
      const failed = results?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    });
    return this.usage(subject, day);
  }

  async usage(subject: string, day: string): Promise<QuotaUsage> {
    const [used, granted] = await this.connection.run('reading the daily quota failed', (r) => r.hmget(this.keyOf(subject, day), 'used', 'granted'));
    return { used: Number(used ?? 0), granted: Number(granted ?? 0) };
  }

  /** Every count is written when it is taken. */
  async flush(): Promise<unknown> {
    return undefined;
  }

  async deleteBefore(day: string): Promise<number> {
    const deleted = await this.connection.run('purging old quota days failed', () =>
      this.deleteScript([this.indexKey], [this.connection.key('quota', ''), day]),
    );
    return Number(deleted);
  }

  private keyOf(subject: string, day: string): string {
    return this.connection.key('quota', member(subject, day));
  }
}

function member(subject: string, day: string): string {
  return `${day}\n${subject}`;
}
