import { isIP } from 'node:net';
import { z } from 'zod';
import { intIn, rateLimit, type RateLimit } from './env-fields.js';
import type { ConditionalRule } from './env-schema.js';

/**
 * Which proxies may say who the client is (Fastify's `trustProxy`, short of "trust everyone"):
 * `false` (the socket's peer is the client), a hop count, or the proxies' addresses and CIDRs.
 * Either way the client address is read from the right of X-Forwarded-For, so an entry the
 * client wrote itself (on the left) never decides who it is.
 */
export type ProxyTrust = false | number | readonly string[];

/** Limits of the HTTP door and of how the doors share the model service. */
export interface HardeningConfig {
  /** HTTP_REQUEST_TIMEOUT_SECONDS: a request's headers and body must have arrived by then. */
  readonly requestTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_SECONDS: an idle keep-alive connection is closed after this. */
  readonly keepAliveMs: number;
  /** HTTP_MAX_CONNECTIONS: open connections at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /** HTTP_RATE_LIMIT: every request that is not a question (page, /healthz, unknown paths), per client IP. */
  readonly otherRateLimit: RateLimit;
  /** CHAT_RUN_SHARE / HTTP_RUN_SHARE: percent of MAX_CONCURRENT_RUNS kept for each door. */
  readonly runShares: { readonly chat: number; readonly api: number };
}

const TRUST_PROXY_HELP =
  'write the number of proxies in front of the service (e.g. 1 for one nginx) or their addresses (e.g. 127.0.0.1,10.0.0.0/8); true would let any client choose its own address';

/** `false`, a hop count, or a list of proxy addresses / CIDRs; `true` is refused with what to write. */
export const proxyTrust = z
  .string()
  .trim()
  .default('false')
  .transform((raw, ctx): ProxyTrust => {
    const v = raw.toLowerCase();
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    if (['true', 'yes', 'on', '*'].includes(v)) {
      ctx.addIssue({ code: 'custom', message: `must not be ${raw}: ${TRUST_PROXY_HELP}` });
      return z.NEVER;
    }
    if (/^\d+$/.test(v)) {
      const hops = Number(v);
      if (hops <= 10) return hops;
    }
    const entries = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = entries.filter((e) => !isAddressOrCidr(e));
    if (entries.length === 0 || bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `cannot use ${bad.join(', ') || raw}: ${TRUST_PROXY_HELP}` });
      return z.NEVER;
    }
    return entries;
  });

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  // The whole internet as a "proxy" is "trust everyone" in disguise.
  return Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The hardening variables, spread into ENV_SCHEMA. */
export const HARDENING_ENV = {
  TRUST_PROXY: proxyTrust,
  HTTP_RATE_LIMIT: rateLimit('600/minute'),
  HTTP_REQUEST_TIMEOUT_SECONDS: intIn(1, 300, 10),
  HTTP_KEEP_ALIVE_SECONDS: intIn(1, 600, 5),
  HTTP_MAX_CONNECTIONS: intIn(10, 100_000, 1_000),
  CHAT_RUN_SHARE: intIn(0, 100, 50),
  HTTP_RUN_SHARE: intIn(0, 100, 25),
};

const percent = (env: Readonly<Record<string, string | undefined>>, name: string, fallback: number) => {
  const n = Number(env[name]?.trim() || fallback);
  return Number.isFinite(n) ? n : 0;
};

/** The two doors' reserved shares cannot add up to more than all the runs there are. */
export const HARDENING_RULES: readonly ConditionalRule[] = [
  (env) =>
    percent(env, 'CHAT_RUN_SHARE', 50) + percent(env, 'HTTP_RUN_SHARE', 25) > 100
      ? ['CHAT_RUN_SHARE and HTTP_RUN_SHARE together must be at most 100 (percent of MAX_CONCURRENT_RUNS kept for each door)']
      : [],
];

type HardeningEnv = z.output<z.ZodObject<typeof HARDENING_ENV>>;

export function toHardeningConfig(e: HardeningEnv): HardeningConfig {
  return {
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
    keepAliveMs: e.HTTP_KEEP_ALIVE_SECONDS * 1000,
    maxConnections: e.HTTP_MAX_CONNECTIONS,
    otherRateLimit: e.HTTP_RATE_LIMIT,
    runShares: { chat: e.CHAT_RUN_SHARE, api: e.HTTP_RUN_SHARE },
  };
}
