import { z } from 'zod';
import { bool, intIn } from './env-fields.js';

/**
 * Variables of the front door: the web chat page and how logs are written. Spread into
 * ENV_SCHEMA; the values land in `Config.webChat` and `Config.log`.
 */
export const FRONTDOOR_ENV = {
  WEB_CHAT_ENABLED: bool(true),
  // No default here: json or pretty is decided by main from whether stdout is a terminal.
  LOG_FORMAT: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['json', 'pretty'], { error: 'must be json or pretty' }))
    .optional(),
  LOG_RETENTION_DAYS: intIn(1, 3650, 14),
};
