import type { AuditRecord, AuditTrail } from '../storage/audit-trail.js';
import { RedisConnection } from '../storage/redis/redis-connection.js';
import { RedisTimeLog } from '../storage/redis/redis-time-log.js';
import { createLogger, SecretRedactor } from '../logger.js';

/**
 * Runs `use` over the audit trail kept in Redis (several instances share it), on a connection
 * of its own, closed afterwards. The report only reads; nothing else of the store is opened.
 */
export async function reportFromRedis(url: string, keyPrefix: string, use: (audit: Pick<AuditTrail, 'between'>) => Promise<number>): Promise<number> {
  const logger = createLogger({ level: 'error', redactor: new SecretRedactor(), console: false });
  const connection = await RedisConnection.open({ url, keyPrefix, logger });
  try {
    return await use(new RedisTimeLog<AuditRecord>(connection, 'audit'));
  } finally {
    await connection.close();
  }
}
