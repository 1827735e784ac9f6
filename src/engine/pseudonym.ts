import { createHmac } from 'node:crypto';

/**
 * The name a conversation goes by towards a model service: an HMAC of its key with a secret
 * kept in our storage, so it is stable across restarts but reveals no staff id, nick or
 * session id, and cannot be linked back without our database.
 */
export function pseudonymOf(key: string, secret: string): string {
  return `u_${createHmac('sha256', secret).update(key).digest('hex').slice(0, 32)}`;
}
