import type { LeaderLease } from '../leader-lease.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';

// Take: free, or already ours (a retry after a lost reply must not lock ourselves out).
const TAKE = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`;

/**
 * Leases in Redis: a key holding the holder's token with an expiry. Only the token's owner can
 * renew or release it (compare-and-set in Lua), so a holder whose lease expired and was taken
 * by another process can never take it back by renewing.
 */
export class RedisLeases {
  private readonly takeScript: RedisScript;
  private readonly renewScript: RedisScript;
  private readonly releaseScript: RedisScript;

  constructor(private readonly connection: RedisConnection) {
    this.takeScript = connection.script(TAKE, 1);
    this.renewScript = connection.script(RENEW, 1);
    this.releaseScript = connection.script(RELEASE, 1);
  }

  take(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.connection.run(`taking lease ${key}`, async () => (await this.takeScript([key], [token, ttlMs])) === 1);
  }

  renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.connection.run(`renewing lease ${key}`, async () => (await this.renewScript([key], [token, ttlMs])) === 1);
  }

  async release(key: string, token: string): Promise<void> {
    await this.connection.run(`releasing lease ${key}`, () => this.releaseScript([key], [token]));
  }

  /** The lease `name` as this process (`token`) sees it. */
  lease(name: string, token: string, ttlMs: number): LeaderLease {
    const key = this.connection.key('lease', name);
    return {
      ttlMs,
      acquire: () => this.take(key, token, ttlMs),
      renew: () => this.renew(key, token, ttlMs),
      release: () => this.release(key, token),
    };
  }
}
