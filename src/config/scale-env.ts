import { z } from 'zod';
import { bool, intIn, optionalText } from './env-fields.js';

/**
 * Variables of running several instances (Redis) and of the Prometheus endpoint. Spread
 * `SCALE_ENV` into ENV_SCHEMA and `SCALE_RULES` into CONDITIONAL_RULES; `toScaleConfig` gives
 * the `redis` and `metrics` sections of Config.
 */
export const SCALE_ENV = {
  /** Put before every key the service writes to Redis (several deployments can share one Redis). */
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .default('bridge:')
    .pipe(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 letters, digits or _ . : -')),
  /** Lifetime of every lease an instance holds in Redis (Stream, conversations, its heartbeat). */
  REDIS_LEASE_SECONDS: intIn(1, 60, 10),
  METRICS_ENABLED: bool(true),
  METRICS_TOKEN: optionalText,
};

export interface ScaleConfig {
  readonly redis: {
    readonly keyPrefix: string;
    /** A dead instance's leases expire after this; renewed every third of it. */
    readonly leaseMs: number;
  };
  readonly metrics: {
    readonly enabled: boolean;
    /** When set, `GET /metrics` needs `Authorization: Bearer <token>`. */
    readonly token?: string;
  };
}

type ScaleEnv = {
  readonly REDIS_KEY_PREFIX: string;
  readonly REDIS_LEASE_SECONDS: number;
  readonly METRICS_ENABLED: boolean;
  readonly METRICS_TOKEN?: string;
};

export function toScaleConfig(e: ScaleEnv): ScaleConfig {
  return {
    redis: { keyPrefix: e.REDIS_KEY_PREFIX, leaseMs: e.REDIS_LEASE_SECONDS * 1000 },
    metrics: { enabled: e.METRICS_ENABLED, token: e.METRICS_TOKEN || undefined },
  };
}

type RawEnv = Readonly<Record<string, string | undefined>>;

const STORAGE_FORMS = 'sqlite://<file>, memory:// or redis://[:password@]host:port/db (rediss:// for TLS)';

/**
 * SESSION_STORAGE is checked here, with the other problems, instead of when the store opens.
 * The value itself is never repeated: a redis:// URL may carry a password.
 */
export const SCALE_RULES: ReadonlyArray<(env: RawEnv) => string[]> = [
  (env) => (isStorageUrl(env.SESSION_STORAGE?.trim() || 'sqlite://./data/sessions.sqlite') ? [] : [`SESSION_STORAGE must be ${STORAGE_FORMS}`]),
  (env) => {
    const token = env.METRICS_TOKEN?.trim();
    return token !== undefined && token !== '' && token.length < 16 ? ['METRICS_TOKEN must be at least 16 characters (or empty for no token)'] : [];
  },
];

function isStorageUrl(url: string): boolean {
  if (url === 'memory://' || url === 'memory') return true;
  if (/^sqlite:\/\/.+$/.test(url)) return true;
  if (!/^rediss?:\/\//.test(url)) return false;
  try {
    const parsed = new URL(url);
    const db = parsed.pathname.replace(/^\//, '');
    return parsed.hostname !== '' && (db === '' || /^\d{1,5}$/.test(db));
  } catch {
    return false;
  }
}
