/* What the rest of the service needs of a Redis URL, without loading the Redis client. */

/** A redis:// URL with its user and password hidden, for messages and logs (other URLs as they are). */
export function redactRedisUrl(url: string): string {
  if (!/^rediss?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.username) parsed.username = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** The password of a redis:// URL (to add to the log redactor), or undefined. */
export function redisUrlPassword(url: string): string | undefined {
  if (!/^rediss?:\/\//.test(url)) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}
