import { z } from 'zod';
import { CARD_ENV, CARD_RULES } from './card-env.js';
import { POLICY_ENV, POLICY_RULES } from './policy-env.js';
import { bool, intIn, jsonObject, list, oneOf, optionalText, optionalUrl, rateLimit, text, url } from './env-fields.js';
import { SCALE_ENV, SCALE_RULES } from './scale-env.js';
import { FRONTDOOR_ENV } from './frontdoor-env.js';
import { CHAT_LIMITS_ENV } from './chat-limits-env.js';
import { HARDENING_ENV, HARDENING_RULES } from './hardening-env.js';

const optionalInt = (min: number, max: number) => intIn(min, max, 0).optional().or(z.undefined());

/** Every variable the service reads, with its format and default. */
export const ENV_SCHEMA = z.object({
  ASSISTANT_BACKEND: oneOf(['openai', 'dify', 'dingtalk-assistant'], 'openai'),
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_API_KEY: optionalText,
  OPENAI_MODEL: optionalText,
  SYSTEM_PROMPT: optionalText,
  OPENAI_EXTRA_BODY: jsonObject,
  HISTORY_MAX_TURNS: intIn(0, 200, 10),
  HISTORY_MAX_CHARS: intIn(0, 1_000_000, 12_000),
  DIFY_BASE_URL: optionalUrl,
  DIFY_API_KEY: optionalText,
  DING_APP_KEY: optionalText,
  DING_APP_SECRET: optionalText,
  AI_ASSISTANT_ID: optionalText,
  ASSISTANT_STREAMING: bool(true),
  DINGTALK_API_BASE: url('https://api.dingtalk.com'),
  DINGTALK_TIMEOUT_SECONDS: intIn(1, 120, 10),
  ANSWER_TIMEOUT_SECONDS: intIn(5, 600, 30),
  MAX_CONCURRENT_RUNS: intIn(1, 1000, 20),
  CONVERSATION_QUEUE_LIMIT: optionalInt(1, 100),
  CHAT_QUEUE_LIMIT: optionalInt(1, 100),
  SESSION_STORAGE: text('sqlite://./data/sessions.sqlite'),
  SESSION_TTL_MINUTES: intIn(1, 7 * 24 * 60, 30),
  PORT: intIn(0, 65535, 5000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  CORS_ORIGINS: text('*'),
  RATE_LIMIT: rateLimit('50/minute'),
  ASK_API_KEYS: list,
  STREAM_ENABLED: bool(true),
  GROUP_SESSION_SCOPE: oneOf(['member', 'group'], 'member'),
  THINKING_NOTICE_SECONDS: intIn(0, 600, 5),
  USER_RATE_LIMIT: rateLimit('20/minute'),
  ALLOWED_GROUPS: list,
  ALLOWED_USERS: list,
  MESSAGE_MAX_AGE_MINUTES: intIn(1, 24 * 60, 10),
  LOG_LEVEL: oneOf(['error', 'warn', 'info', 'debug'], 'info'),
  LOG_FILE: optionalText,
  ...SCALE_ENV,
  ...FRONTDOOR_ENV,
  ...CARD_ENV,
  ...POLICY_ENV,
  ...CHAT_LIMITS_ENV,
  ...HARDENING_ENV,
});

type RawEnv = Readonly<Record<string, string | undefined>>;

/** A rule over the raw values that returns its problems (empty when satisfied). */
export type ConditionalRule = (env: RawEnv) => string[];

const backendOf = (env: RawEnv) => (env.ASSISTANT_BACKEND ?? 'openai').trim().toLowerCase();
const streamOn = (env: RawEnv) => !['false', '0', 'no', 'off'].includes((env.STREAM_ENABLED ?? 'true').trim().toLowerCase());

function requireAll(env: RawEnv, because: string, vars: Record<string, string>): string[] {
  return Object.entries(vars)
    .filter(([name]) => !env[name]?.trim())
    .map(([name, hint]) => `${name} is required ${because} (${hint})`);
}

/** Variables required only by some choices: a DingTalk app only when something uses it. */
export const CONDITIONAL_RULES: readonly ConditionalRule[] = [
  (env) =>
    backendOf(env) === 'openai'
      ? requireAll(env, 'when ASSISTANT_BACKEND=openai', {
          OPENAI_BASE_URL: 'the chat-completions base URL, e.g. https://dashscope.aliyuncs.com/compatible-mode/v1',
          OPENAI_API_KEY: "the model service's API key",
          OPENAI_MODEL: 'the model name, e.g. qwen-plus',
        })
      : [],
  (env) =>
    backendOf(env) === 'dify'
      ? requireAll(env, 'when ASSISTANT_BACKEND=dify', {
          DIFY_BASE_URL: 'the Dify API base, e.g. https://api.dify.ai/v1',
          DIFY_API_KEY: "the Dify app's API key (app-…)",
        })
      : [],
  (env) =>
    backendOf(env) === 'dingtalk-assistant'
      ? requireAll(env, 'when ASSISTANT_BACKEND=dingtalk-assistant', {
          AI_ASSISTANT_ID: 'the 32-hex id of the AI assistant',
        })
      : [],
  (env) => {
    const because = streamOn(env)
      ? 'when the Stream bot is on (STREAM_ENABLED=true)'
      : backendOf(env) === 'dingtalk-assistant'
        ? 'when ASSISTANT_BACKEND=dingtalk-assistant'
        : undefined;
    if (!because) return [];
    return requireAll(env, because, {
      DING_APP_KEY: 'the Client ID / AppKey of the DingTalk app',
      DING_APP_SECRET: 'the Client Secret / AppSecret of the DingTalk app',
    });
  },
  ...SCALE_RULES,
  ...CARD_RULES,
  ...POLICY_RULES,
  ...HARDENING_RULES,
];
