import type { z } from 'zod';
import { toReplyConfig, type ReplyConfig } from './card-env.js';
import { toChatLimitsConfig, type ChatLimitsConfig } from './chat-limits-env.js';
import { DEFAULT_SYSTEM_PROMPT } from './default-prompts.js';
import type { RateLimit } from './env-fields.js';
import { CONDITIONAL_RULES, ENV_SCHEMA } from './env-schema.js';
import { type ScaleConfig, toScaleConfig } from './scale-env.js';
import { toHardeningConfig, type HardeningConfig, type ProxyTrust } from './hardening-env.js';
import { type ConfigFileReader, type PolicyConfig, readPolicyFiles, toPolicyConfig } from './policy-env.js';

export type { RateLimit } from './env-fields.js';
export type { ReplyConfig, ReplyMode } from './card-env.js';
export type { ConfigFileReader, PolicyConfig } from './policy-env.js';
export type { ChatLimitsConfig } from './chat-limits-env.js';
export type { HardeningConfig, ProxyTrust } from './hardening-env.js';

/**
 * All configuration, read from an env object in one place (probot's readEnvOptions). Every
 * variable is documented in .env.example and README.md; a test keeps the three in sync.
 */
export type GroupSessionScope = 'member' | 'group';

export type BackendConfig =
  | {
      readonly kind: 'openai';
      readonly baseUrl: string;
      readonly apiKey: string;
      readonly model: string;
      readonly systemPrompt: string;
      readonly extraBody: Readonly<Record<string, unknown>>;
      readonly historyMaxTurns: number;
      readonly historyMaxChars: number;
    }
  | { readonly kind: 'dify'; readonly baseUrl: string; readonly apiKey: string }
  | { readonly kind: 'dingtalk-assistant'; readonly assistantId: string; readonly streaming: boolean };

export interface Config extends ScaleConfig {
  readonly dingtalk: {
    /** Empty when neither the Stream bot nor the DingTalk assistant is used. */
    readonly appKey: string;
    readonly appSecret: string;
    readonly apiBase: string;
    readonly timeoutMs: number;
  };
  readonly backend: BackendConfig;
  readonly assistant: {
    readonly answerTimeoutMs: number;
    readonly maxConcurrentRuns: number;
    /** Turns waiting or running per conversation (CONVERSATION_QUEUE_LIMIT). */
    readonly queueLimit: number;
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
    /** TRUST_PROXY: whose X-Forwarded-For says who the client is. */
    readonly trustProxy: ProxyTrust;
  };
  readonly chat: {
    readonly streamEnabled: boolean;
    readonly groupSessionScope: GroupSessionScope;
    readonly thinkingNoticeMs: number;
    readonly userRateLimit: RateLimit;
    readonly allowedGroups: readonly string[];
    readonly allowedUsers: readonly string[];
    readonly messageMaxAgeMs: number;
  };
  readonly log: {
    readonly level: string;
    readonly file?: string;
    /** LOG_FORMAT; undefined lets the logger choose (pretty on a terminal, JSON otherwise). */
    readonly format?: 'json' | 'pretty';
    /** LOG_RETENTION_DAYS: daily LOG_FILE files older than this are deleted. */
    readonly retentionDays: number;
  };
  readonly webChat: {
    /** WEB_CHAT_ENABLED: the chat page at `GET /`. */
    readonly enabled: boolean;
  };
  /** How chat answers are shown (DINGTALK_REPLY_MODE, AI-card settings). */
  readonly replies: ReplyConfig;
  /** School policy: roles, prompts, fair use, labels, crisis hand-off, filter, retention. */
  readonly policy: PolicyConfig;
  /** Limits of the chat door: refusal and notice rationing, frame and answer sizes, webhook origins. */
  readonly chatLimits: ChatLimitsConfig;
  /** Limits against abuse: slow clients, connections, other requests, the doors' run shares. */
  readonly hardening: HardeningConfig;
}

export interface LoadConfigOptions {
  /**
   * Reads files the configuration names (`STUDENT_PROMPT=@file`, CRISIS_WORDS_FILE...). main
   * passes the file system; without it, naming a file is reported as a problem.
   */
  readonly readFile?: ConfigFileReader;
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

/** Names of every variable the service reads (for docs and the docs-sync test). */
export const CONFIG_VARIABLES = Object.keys(ENV_SCHEMA.shape);

type Env = z.output<typeof ENV_SCHEMA>;

/**
 * Pure: the same env (and files) always give the same Config, or a ConfigError listing all
 * problems.
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  // Treat empty strings like unset so `FOO=` in .env falls back to the default.
  const cleaned = Object.fromEntries(CONFIG_VARIABLES.map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = ENV_SCHEMA.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`);
  // Which variables are required depends on others (backend, Stream): checked on the raw
  // values, so they are reported together with the format problems above.
  for (const rule of CONDITIONAL_RULES) problems.push(...rule(cleaned));
  const files = readPolicyFiles(cleaned, options.readFile);
  problems.push(...files.problems);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return toConfig(parsed.data, files);
}

function toConfig(e: Env, files: ReturnType<typeof readPolicyFiles>): Config {
  const origins: Config['http']['corsOrigins'] =
    e.CORS_ORIGINS === '*' ? '*' : e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean);
  return Object.freeze({
    dingtalk: {
      appKey: e.DING_APP_KEY ?? '',
      appSecret: e.DING_APP_SECRET ?? '',
      apiBase: e.DINGTALK_API_BASE,
      timeoutMs: e.DINGTALK_TIMEOUT_SECONDS * 1000,
    },
    backend: toBackend(e),
    assistant: {
      answerTimeoutMs: e.ANSWER_TIMEOUT_SECONDS * 1000,
      maxConcurrentRuns: e.MAX_CONCURRENT_RUNS,
      queueLimit: e.CONVERSATION_QUEUE_LIMIT ?? e.CHAT_QUEUE_LIMIT ?? 5,
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
      userRateLimit: e.USER_RATE_LIMIT,
      allowedGroups: e.ALLOWED_GROUPS,
      allowedUsers: e.ALLOWED_USERS,
      messageMaxAgeMs: e.MESSAGE_MAX_AGE_MINUTES * 60_000,
    },
    log: { level: e.LOG_LEVEL, file: e.LOG_FILE || undefined, format: e.LOG_FORMAT, retentionDays: e.LOG_RETENTION_DAYS },
    webChat: { enabled: e.WEB_CHAT_ENABLED },
    replies: toReplyConfig(e),
    policy: toPolicyConfig(e, files, e.SYSTEM_PROMPT || undefined),
    ...toScaleConfig(e),
    chatLimits: toChatLimitsConfig(e),
    hardening: toHardeningConfig(e),
  });
}

function toBackend(e: Env): BackendConfig {
  switch (e.ASSISTANT_BACKEND) {
    case 'dify':
      return { kind: 'dify', baseUrl: e.DIFY_BASE_URL!, apiKey: e.DIFY_API_KEY! };
    case 'dingtalk-assistant':
      return { kind: 'dingtalk-assistant', assistantId: e.AI_ASSISTANT_ID!, streaming: e.ASSISTANT_STREAMING };
    default:
      return {
        kind: 'openai',
        baseUrl: e.OPENAI_BASE_URL!,
        apiKey: e.OPENAI_API_KEY!,
        model: e.OPENAI_MODEL!,
        systemPrompt: e.SYSTEM_PROMPT ?? DEFAULT_SYSTEM_PROMPT,
        extraBody: e.OPENAI_EXTRA_BODY,
        historyMaxTurns: e.HISTORY_MAX_TURNS,
        historyMaxChars: e.HISTORY_MAX_CHARS,
      };
  }
}
