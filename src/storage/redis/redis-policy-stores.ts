import type { AuditRecord } from '../audit-trail.js';
import type { NoticeMemory } from '../notice-memory.js';
import type { PolicyStores } from '../policy-stores.js';
import type { TranscriptEntry } from '../transcript-store.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';
import { RedisExamStore } from './redis-exam-store.js';
import { RedisQuotaStore } from './redis-quota-store.js';
import { RedisTimeLog } from './redis-time-log.js';

// KEYS: the notice. ARGV: expiresAt, now. A claim is the notice's expiry time; one that has
// passed (by the caller's clock) is taken over. Redis drops the key a day after it expired.
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) > tonumber(ARGV[2]) then return 0 end
local ttl = math.max(1, tonumber(ARGV[1]) - tonumber(ARGV[2])) + 86400000
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
return 1`;

/** One-time notices as keys `notice:<key>` holding their expiry; Redis expires them itself. */
class RedisNoticeMemory implements NoticeMemory {
  private readonly claimScript: RedisScript;

  constructor(private readonly connection: RedisConnection) {
    this.claimScript = connection.script(CLAIM, 1);
  }

  async claim(key: string, expiresAt: number, now: number): Promise<boolean> {
    const taken = await this.connection.run('recording a notice failed', () => this.claimScript([this.connection.key('notice', key)], [expiresAt, now]));
    return taken === 1;
  }

  /** Redis deletes expired notices on its own; nothing is left to count. */
  async deleteExpired(): Promise<number> {
    return 0;
  }
}

/** School policy's five stores in Redis, shared by every instance (quota counts, exams, notices, audit, transcripts). */
export function openRedisPolicyStores(connection: RedisConnection, onWriteError?: (err: unknown) => void): PolicyStores {
  return {
    quotas: new RedisQuotaStore(connection),
    exams: new RedisExamStore(connection),
    notices: new RedisNoticeMemory(connection),
    audit: new RedisTimeLog<AuditRecord>(connection, 'audit', onWriteError, (r) => ({ ...r, latencyMs: Math.round(r.latencyMs) })),
    transcripts: new RedisTimeLog<TranscriptEntry>(connection, 'transcripts', onWriteError),
  };
}
