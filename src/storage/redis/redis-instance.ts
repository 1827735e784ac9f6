import type { Logger } from '../../logger.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';

// KEYS: heartbeat, pseudonym key. ARGV: ttl, pseudonym secret. The secret is put back if Redis
// lost it (restarted without persistence), so pseudonyms stay the same on every instance.
const BEAT = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'NX')
return 1`;

/**
 * This process's heartbeat in Redis (`instance:<id>`, renewed every third of the lease). What it
 * owns (ledger entries, open cards) is claimed by others only once the heartbeat is gone: after
 * a graceful stop at once, after a kill -9 within one lease.
 */
export class RedisInstance {
  private readonly beatScript: RedisScript;
  private timer: NodeJS.Timeout | undefined;
  private readonly key: string;

  constructor(
    private readonly connection: RedisConnection,
    readonly id: string,
    private readonly leaseMs: number,
    private readonly pseudonymKey: { key: string; value: string },
    private readonly logger: Logger,
  ) {
    this.beatScript = connection.script(BEAT, 2);
    this.key = connection.key('instance', id);
  }

  /** The first beat is awaited: nothing may be owned before others can see the owner alive. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((err: unknown) => this.logger.debug('instance heartbeat failed', { err: String(err) }));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    // Right after an outage, before others decide we are gone.
    this.connection.client.on('ready', () => void this.beat().catch(() => undefined));
  }

  /** Stops beating and deletes the heartbeat: what we still own is for others to take now. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.connection.run('removing the instance heartbeat failed', (r) => r.del(this.key)).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    await this.connection.run('instance heartbeat failed', () =>
      this.beatScript([this.key, this.pseudonymKey.key], [this.leaseMs, this.pseudonymKey.value]),
    );
  }
}
