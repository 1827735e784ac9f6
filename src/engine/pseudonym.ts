import { createHmac } from 'node:crypto';

/** Recent pseudonyms: one question asks for the same few several times over (engine, policy). */
const recent = new Map<string, string>();
const RECENT_MAX = 10_000;

/**
 * The name a conversation goes by towards a model service: an HMAC of its key with a secret
 * kept in our storage, so it is stable across restarts but reveals no staff id, nick or
 * session id, and cannot be linked back without our database.
 */
export function pseudonymOf(key: string, secret: string): string {
  const slot = `${secret}\n${key}`;
  let name = recent.get(slot);
  if (name === undefined) {
    if (recent.size >= RECENT_MAX) recent.clear(); // bounded; the next questions refill it
    name = `u_${createHmac('sha256', secret).update(key).digest('hex').slice(0, 32)}`;
    recent.set(slot, name);
  }
  return name;
}
