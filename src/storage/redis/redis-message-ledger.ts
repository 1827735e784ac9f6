import { StorageError } from '../../errors.js';
import type { LedgerEntry, MessageLedger } from '../message-ledger.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';

// KEYS: entry, pending set, sequence. ARGV: id, admittedAt, payload, owner, ttl.
// Set-if-absent and the place in the arrival order in one step.
const ADMIT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'state', 'pending', 'admittedAt', ARGV[2], 'payload', ARGV[3], 'owner', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return 1`;

// KEYS: entry. ARGV: ttl, then field, JSON value pairs. Only while the entry is pending.
const UPDATE = `
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], 'p:' .. ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

// KEYS: entry, pending set. ARGV: id, ttl. Keeps only the guard (the question's text goes).
const COMPLETE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'done')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`;

// KEYS: pending set. ARGV: entry key prefix. Every pending entry, in arrival order (read only).
const LIST = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local entry = ARGV[1] .. id
  if redis.call('HGET', entry, 'state') == 'pending' then
    table.insert(out, id)
    table.insert(out, redis.call('HGETALL', entry))
  end
end
return out`;

// KEYS: pending set. ARGV: me, entry key prefix, instance key prefix. Claims, in arrival order,
// every pending entry whose owner is no longer alive (its heartbeat key expired or was deleted):
// atomic, so two processes never get the same entry. Drops ids whose entry expired or is done.
const CLAIM = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local entry = ARGV[2] .. id
  if redis.call('HGET', entry, 'state') ~= 'pending' then
    redis.call('ZREM', KEYS[1], id)
  else
    local owner = redis.call('HGET', entry, 'owner')
    if owner ~= ARGV[1] and (not owner or redis.call('EXISTS', ARGV[3] .. owner) == 0) then
      redis.call('HSET', entry, 'owner', ARGV[1])
      table.insert(out, id)
      table.insert(out, redis.call('HGETALL', entry))
    end
  end
end
return out`;

export interface RedisLedgerOptions {
  readonly connection: RedisConnection;
  /** This process: owner of what it admits and claims. */
  readonly instanceId: string;
  readonly ttlMs: number;
}

/**
 * The message ledger in Redis, shared by every instance. An entry is a hash `ledger:<id>` with
 * its owner (the instance answering it); `ledger-pending` orders pending ids by arrival.
 * `pending()` lists every pending entry; `recoverable()` hands out only entries whose owner
 * died, claiming them atomically, so the Stream holder can call it again and again and two
 * instances never answer the same message.
 */
export class RedisMessageLedger implements MessageLedger {
  private readonly admitScript: RedisScript;
  private readonly updateScript: RedisScript;
  private readonly completeScript: RedisScript;
  private readonly listScript: RedisScript;
  private readonly claimScript: RedisScript;
  private lastAdmit: Promise<void> = Promise.resolve();
  private readonly pendingKey: string;
  private readonly seqKey: string;

  constructor(private readonly options: RedisLedgerOptions) {
    const { connection } = options;
    this.admitScript = connection.script(ADMIT, 3);
    this.updateScript = connection.script(UPDATE, 1);
    this.completeScript = connection.script(COMPLETE, 2);
    this.listScript = connection.script(LIST, 1);
    this.claimScript = connection.script(CLAIM, 1);
    this.pendingKey = connection.key('ledger-pending');
    this.seqKey = connection.key('ledger-seq');
  }

  admit(entry: LedgerEntry): Promise<boolean> {
    let payload: string;
    try {
      payload = JSON.stringify(entry.payload) ?? '';
    } catch (err) {
      return Promise.reject(new StorageError(`ledger payload of ${entry.id} is not serialisable: ${String(err)}`, { cause: err }));
    }
    const { connection, instanceId, ttlMs } = this.options;
    const admitted = connection.run(`ledger admit of ${entry.id} failed`, async () => {
      const keys = [this.entryKey(entry.id), this.pendingKey, this.seqKey];
      return (await this.admitScript(keys, [entry.id, entry.admittedAt, payload, instanceId, ttlMs])) === 1;
    });
    this.lastAdmit = admitted.then(
      () => undefined,
      () => undefined,
    );
    return admitted;
  }

  /** Admits go out in order on one connection: the newest settling means every earlier one has. */
  async idle(): Promise<void> {
    await this.lastAdmit;
  }

  async update(id: string, progress: Readonly<Record<string, unknown>>): Promise<void> {
    const pairs = Object.entries(progress).flatMap(([field, value]) => [field, JSON.stringify(value) ?? 'null']);
    if (pairs.length === 0) return;
    await this.options.connection.run(`updating ledger entry ${id} failed`, () =>
      this.updateScript([this.entryKey(id)], [this.options.ttlMs, ...pairs]),
    );
  }

  async complete(id: string): Promise<void> {
    await this.options.connection.run(`completing ledger entry ${id} failed`, () =>
      this.completeScript([this.entryKey(id), this.pendingKey], [id, this.options.ttlMs]),
    );
  }

  async pending(): Promise<LedgerEntry[]> {
    const { connection } = this.options;
    const flat = await connection.run('listing pending ledger entries failed', () =>
      this.listScript([this.pendingKey], [connection.key('ledger', '')]),
    );
    return toEntries(flat);
  }

  async recoverable(): Promise<LedgerEntry[]> {
    const { connection, instanceId } = this.options;
    const flat = await connection.run('claiming pending ledger entries failed', () =>
      this.claimScript([this.pendingKey], [instanceId, connection.key('ledger', ''), connection.key('instance', '')]),
    );
    return toEntries(flat);
  }

  private entryKey(id: string): string {
    return this.options.connection.key('ledger', id);
  }
}

/** [id, [field, value, …], id, …] as the scripts return it. */
function toEntries(flat: unknown): LedgerEntry[] {
  const list = flat as unknown[];
  const out: LedgerEntry[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push(toEntry(String(list[i]), list[i + 1] as string[]));
  return out;
}

function toEntry(id: string, fields: readonly string[]): LedgerEntry {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) hash.set(fields[i]!, fields[i + 1]!);
  const progress: Record<string, unknown> = {};
  for (const [field, value] of hash) if (field.startsWith('p:')) progress[field.slice(2)] = parseJson(value);
  return {
    id,
    admittedAt: Number(hash.get('admittedAt')),
    // A corrupt payload comes back as null: recovery then completes the entry instead of answering.
    payload: parseJson(hash.get('payload') ?? '') ?? null,
    ...(Object.keys(progress).length > 0 && { progress }),
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
