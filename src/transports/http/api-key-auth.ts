import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <key>` against ASK_API_KEYS in constant time: both sides are
 * hashed to equal-length digests, and every configured key is compared, so neither the length
 * nor the position of a match leaks through timing.
 */
export function createApiKeyCheck(keys: readonly string[]): (authorization: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (authorization) => {
    const presented = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '')?.[1]?.trim();
    if (!presented) return false;
    const candidate = digest(presented);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, candidate) || ok;
    return ok;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
