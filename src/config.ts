import { z } from 'zod';

/**
 * All configuration, read from an env object in one place (probot's readEnvOptions). Every
 * variable is documented in .env.example and README.md; a test keeps the three in sync.
 */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

export type GroupSessionScope = 'member' | 'group';

export interface Config {
  readonly dingtalk: {
    readonly appKey: string;
    readonly appSecret: string;
    readonly apiBase: string;
    readonly timeoutMs: number;
  };
  readonly assistant: {
    readonly assistantId: string;
    readonly streaming: boolean;
    readonly answerTimeoutMs: number;
    readonly maxConcurrentRuns: number;
  };
  readonly sessions: {
    readonly storage: string;
    readonly ttlMs: number;
  };
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly corsOrigins: '*' | readonly string[];
    readonly rateLimit: RateLimit;
    readonly apiKeys: readonly string[];
    readonly trustProxy: boolean;
  };
  readonly chat: {
    readonly streamEnabled: boolean;
    readonly groupSessionScope: GroupSessionScope;
    readonly thinkingNoticeMs: number;
    readonly queueLimit: number;
    readonly userRateLimit: RateLimit;
    readonly allowedGroups: readonly string[];
    readonly allowedUsers: readonly string[];
    readonly messageMaxAgeMs: number;
  };
  readonly log: {
    readonly level: string;
    readonly file?: string;
  };
}

/** Start-up failed because of configuration; `problems` lists every issue found. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const RATE_WINDOWS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000 };

const required = (hint: string) =>
  z.string({ error: `is required (${hint})` }).trim().min(1, `is required (${hint})`);

const intIn = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .pipe(
      z.coerce
        .number<string>({ error: 'must be a whole number' })
        .int('must be a whole number')
        .min(min, `must be at least ${min}`)
        .max(max, `must be at most ${max}`),
    );

const bool = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .default(String(fallback))
    .pipe(
      z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
        error: 'must be true or false',
      }),
    )
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const rateLimit = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx): RateLimit => {
      const m = /^(\d+)\s*\/\s*(second|minute|hour)$/i.exec(v);
      const max = m ? Number(m[1]) : 0;
      if (!m || max < 1) {
        ctx.addIssue({ code: 'custom', message: 'must look like 50/minute (per second, minute or hour)' });
        return z.NEVER;
      }
      return { max, windowMs: RATE_WINDOWS[m[2]!.toLowerCase()]! };
    });

const url = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
    .transform((v) => v.replace(/\/+$/, ''));

const schema = z.object({
  DING_APP_KEY: required('the Client ID / AppKey of the DingTalk app'),
  DING_APP_SECRET: required('the Client Secret / AppSecret of the DingTalk app'),
  AI_ASSISTANT_ID: required('the 32-hex id of the AI assistant'),
  DINGTALK_API_BASE: url('https://api.dingtalk.com'),
  DINGTALK_TIMEOUT_SECONDS: intIn(1, 120, 10),
  ASSISTANT_STREAMING: bool(true),
  ANSWER_TIMEOUT_SECONDS: intIn(5, 600, 30),
  MAX_CONCURRENT_RUNS: intIn(1, 1000, 20),
  SESSION_STORAGE: z.string().trim().default('sqlite://./data/sessions.sqlite'),
  SESSION_TTL_MINUTES: intIn(1, 7 * 24 * 60, 30),
  PORT: intIn(0, 65535, 5000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  CORS_ORIGINS: z.string().trim().default('*'),
  RATE_LIMIT: rateLimit('50/minute'),
  ASK_API_KEYS: list,
  TRUST_PROXY: bool(false),
  STREAM_ENABLED: bool(true),
  GROUP_SESSION_SCOPE: z
    .string()
    .trim()
    .toLowerCase()
    .default('member')
    .pipe(z.enum(['member', 'group'], { error: 'must be member or group' })),
  THINKING_NOTICE_SECONDS: intIn(0, 600, 5),
  CHAT_QUEUE_LIMIT: intIn(1, 100, 5),
  USER_RATE_LIMIT: rateLimit('20/minute'),
  ALLOWED_GROUPS: list,
  ALLOWED_USERS: list,
  MESSAGE_MAX_AGE_MINUTES: intIn(1, 24 * 60, 10),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .default('info')
    .pipe(z.enum(['error', 'warn', 'info', 'debug'], { error: 'must be error, warn, info or debug' })),
  LOG_FILE: z.string().trim().optional(),
});

/** Names of every variable the service reads (for docs and the docs-sync test). */
export const CONFIG_VARIABLES = Object.keys(schema.shape);

/** Pure: the same env always gives the same Config, or a ConfigError listing all problems. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Treat empty strings like unset so `FOO=` in .env falls back to the default.
  const cleaned = Object.fromEntries(
    CONFIG_VARIABLES.map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`));
  }
  return toConfig(parsed.data);
}

function toConfig(e: z.output<typeof schema>): Config {
  const origins: Config['http']['corsOrigins'] = e.CORS_ORIGINS === '*' ? '*' : e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean);
  return Object.freeze({
    dingtalk: {
      appKey: e.DING_APP_KEY,
      appSecret: e.DING_APP_SECRET,
      apiBase: e.DINGTALK_API_BASE,
      timeoutMs: e.DINGTALK_TIMEOUT_SECONDS * 1000,
    },
    assistant: {
      assistantId: e.AI_ASSISTANT_ID,
      streaming: e.ASSISTANT_STREAMING,
      answerTimeoutMs: e.ANSWER_TIMEOUT_SECONDS * 1000,
      maxConcurrentRuns: e.MAX_CONCURRENT_RUNS,
    },
    sessions: { storage: e.SESSION_STORAGE, ttlMs: e.SESSION_TTL_MINUTES * 60_000 },
    http: {
      port: e.PORT,
      host: e.HOST,
      corsOrigins: origins,
      rateLimit: e.RATE_LIMIT,
      apiKeys: e.ASK_API_KEYS,
      trustProxy: e.TRUST_PROXY,
    },
    chat: {
      streamEnabled: e.STREAM_ENABLED,
      groupSessionScope: e.GROUP_SESSION_SCOPE,
      thinkingNoticeMs: e.THINKING_NOTICE_SECONDS * 1000,
      queueLimit: e.CHAT_QUEUE_LIMIT,
      userRateLimit: e.USER_RATE_LIMIT,
      allowedGroups: e.ALLOWED_GROUPS,
      allowedUsers: e.ALLOWED_USERS,
      messageMaxAgeMs: e.MESSAGE_MAX_AGE_MINUTES * 60_000,
    },
    log: { level: e.LOG_LEVEL, file: e.LOG_FILE || undefined },
  });
}
