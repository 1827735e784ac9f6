import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <key>` against ASK_API_KEYS in constant time and says which key
 * it was: an id derived from the configured key (a hash, never the key), so every spelling of
 * the header (`bearer  KEY`, `BEARER KEY`) is the same caller. Both sides are hashed to
 * equal-length digests and every configured key is compared, so neither the length nor the
 * position of a match leaks through timing. Undefined when no configured key matches.
 */
export function createApiKeyAuth(keys: readonly string[]): (authorization: string | undefined) => string | undefined {
  const known = keys.map((key) => ({ digest: digest(key), id: `key:${digest(`id:${key}`).toString('hex').slice(0, 16)}` }));
  return (authorization) => {
    const presented = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '')?.[1]?.trim();
    if (!presented) return undefined;
    const candidate = digest(presented);
    let matched: string | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, candidate)) matched ??= k.id;
    return matched;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
