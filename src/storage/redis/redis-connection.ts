import { Redis } from 'ioredis';
import { redactRedisUrl } from './redis-url.js';
import { StorageError } from '../../errors.js';
import type { Logger } from '../../logger.js';

export interface RedisConnectionOptions {
  /** `redis://[:password@]host:port/db` or `rediss://…` (TLS). */
  readonly url: string;
  /** Put before every key (REDIS_KEY_PREFIX). */
  readonly keyPrefix: string;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  /** A command without an answer for this long fails (a hung Redis must not hang questions). */
  readonly commandTimeoutMs?: number;
}

/** Runs a Lua script defined with `script()`: keys first, then arguments. */
export type RedisScript = (keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

const CONNECT_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 3_000;
/** How often a lasting outage is logged again. */
const ERROR_LOG_EVERY_MS = 30_000;

/**
 * One ioredis client with the settings every Redis adapter needs, and the helpers they share
 * (key prefixing, Lua scripts, errors as StorageError). While Redis is unreachable, commands
 * fail at once instead of queueing (the caller answers 503 or "unavailable"); the client keeps
 * reconnecting on its own, so service resumes by itself when Redis returns. A command whose
 * connection drops is failed, never silently sent again: a repeated set-if-absent would look
 * like a redelivery of our own message.
 */
export class RedisConnection {
  private scripts = 0;
  private lastErrorLogAt = 0;
  private down = false;
  private closing = false;

  private constructor(
    readonly client: Redis,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const client = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    let lastError: unknown;
    const remember = (err: unknown) => {
      lastError = err;
    };
    client.on('error', remember);
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      // ioredis rejects with "Connection is closed."; the reason (refused, WRONGPASS…) came as an event.
      const reason = errorText(lastError ?? err);
      throw new StorageError(`cannot connect to Redis at ${redactRedisUrl(options.url)}: ${reason}`, { cause: lastError ?? err });
    } finally {
      client.off('error', remember);
    }
    const connection = new RedisConnection(client, options.keyPrefix, options.logger);
    connection.watch();
    return connection;
  }

  /** The prefixed key for these parts (`bridge:session:dm:cid`). */
  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  /** Runs `fn`, turning any failure into a StorageError that says what was being done. */
  async run<T>(what: string, fn: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client);
    } catch (err) {
      throw toStorageError(what, err);
    }
  }

  /** Defines a Lua script (sent once, then run by its hash) and returns a caller for it. */
  script(lua: string, numberOfKeys: number): RedisScript {
    const name = `bridgeScript${++this.scripts}`;
    this.client.defineCommand(name, { lua, numberOfKeys });
    const command = (this.client as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>)[name]!;
    return (keys, args) => command.call(this.client, ...keys, ...args);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Sends QUIT (letting commands already sent finish), bounded; then drops the socket. */
  async close(): Promise<void> {
    this.closing = true;
    const quit = this.client.quit().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([quit, new Promise((r) => (timer = setTimeout(r, 1_000)))]);
    clearTimeout(timer);
    this.client.disconnect();
    this.client.on('error', () => undefined); // a late socket error after close is not news
  }

  /** Logs an outage once (the error behind it every 30 s while it lasts) and its end. */
  private watch(): void {
    this.client.on('close', () => {
      if (this.down || this.closing) return;
      this.down = true;
      this.logger.warn('redis connection lost; questions fail with 503 until it returns');
    });
    this.client.on('error', (err: unknown) => {
      const now = Date.now();
      if (now - this.lastErrorLogAt < ERROR_LOG_EVERY_MS) return;
      this.lastErrorLogAt = now;
      this.logger.warn('redis unreachable', { err: errorText(err) });
    });
    this.client.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      this.lastErrorLogAt = 0;
      this.logger.info('redis connection restored');
    });
  }
}

export function toStorageError(what: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  return new StorageError(`${what}: ${errorText(err)}`, { cause: err });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
