import type { OpenCard, OpenCardStore } from '../open-card-store.js';
import type { RedisConnection, RedisScript } from './redis-connection.js';

// KEYS: cards, owners. ARGV: me, instance key prefix. Claims the cards of owners no longer
// alive (and lists ours): another live instance's cards are still being written.
const CLAIM = `
local out = {}
local owners = redis.call('HGETALL', KEYS[2])
for i = 1, #owners, 2 do
  local id, owner = owners[i], owners[i + 1]
  if owner == ARGV[1] or redis.call('EXISTS', ARGV[2] .. owner) == 0 then
    local card = redis.call('HGET', KEYS[1], id)
    if card then
      redis.call('HSET', KEYS[2], id, ARGV[1])
      table.insert(out, card)
    else
      redis.call('HDEL', KEYS[2], id)
    end
  end
end
return out`;

/**
 * Open AI cards in two Redis hashes: `cards` (id → the card as JSON) and `card-owners` (id →
 * the instance writing it). `list()` returns what a crash left open, never a card another live
 * instance is still writing.
 */
export class RedisOpenCardStore implements OpenCardStore {
  private readonly claimScript: RedisScript;
  private readonly cardsKey: string;
  private readonly ownersKey: string;

  constructor(
    private readonly connection: RedisConnection,
    private readonly instanceId: string,
  ) {
    this.claimScript = connection.script(CLAIM, 2);
    this.cardsKey = connection.key('cards');
    this.ownersKey = connection.key('card-owners');
  }

  async put(card: OpenCard): Promise<void> {
    const text = JSON.stringify(card);
    await this.connection.run(`recording open card ${card.id} failed`, async (r) =>
      failOnError(await r.multi().hset(this.cardsKey, card.id, text).hset(this.ownersKey, card.id, this.instanceId).exec()),
    );
  }

  async remove(id: string): Promise<void> {
    await this.connection.run(`removing open card ${id} failed`, async (r) =>
      failOnError(await r.multi().hdel(this.cardsKey, id).hdel(this.ownersKey, id).exec()),
    );
  }

  async list(): Promise<OpenCard[]> {
    const texts = (await this.connection.run('listing open cards failed', () =>
      this.claimScript([this.cardsKey, this.ownersKey], [this.instanceId, this.connection.key('instance', '')]),
    )) as string[];
    const cards = texts.map(parseCard).filter((c): c is OpenCard => c !== undefined);
    return cards.sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
  }
}

/** A transaction reports a failed command inside its result, not as a rejection. */
function failOnError(results: Array<[Error | null, unknown]> | null): void {
  const failed = results?.find(([err]) => err)?.[0];
  if (failed) throw failed;
}

function parseCard(text: string): OpenCard | undefined {
  try {
    const c = JSON.parse(text) as Partial<OpenCard>;
    if (typeof c.id !== 'string' || typeof c.messageId !== 'string' || typeof c.openedAt !== 'number') return undefined;
    const target = typeof c.target === 'object' && c.target !== null && !Array.isArray(c.target) ? c.target : {};
    return { id: c.id, messageId: c.messageId, target, lastText: typeof c.lastText === 'string' ? c.lastText : '', openedAt: c.openedAt };
  } catch {
    return undefined;
  }
}
