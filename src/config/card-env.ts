import { z } from 'zod';
import { intIn, oneOf, optionalText } from './env-fields.js';
import type { ConditionalRule } from './env-schema.js';

/** How chat answers are shown: plain markdown messages, or AI cards that fill in as the model writes. */
export type ReplyMode = 'markdown' | 'card';

/** The reply settings of Config (DINGTALK_REPLY_MODE and the AI-card variables). */
export interface ReplyConfig {
  readonly mode: ReplyMode;
  /** The published AI-card template (`….schema`); set when mode is `card`. */
  readonly cardTemplateId: string;
  /** The template's streaming markdown variable. */
  readonly cardContentKey: string;
  /** Least time between two updates of one card. */
  readonly cardUpdateIntervalMs: number;
}

/** DingTalk allows keys up to 100 bytes; a template variable name is an identifier. */
const contentKey = z
  .string()
  .trim()
  .default('content')
  .pipe(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a template variable name, e.g. content or msgContent'));

/** The reply variables, spread into ENV_SCHEMA. */
export const CARD_ENV = {
  DINGTALK_REPLY_MODE: oneOf(['markdown', 'card'], 'markdown'),
  DINGTALK_CARD_TEMPLATE_ID: optionalText,
  DINGTALK_CARD_CONTENT_KEY: contentKey,
  CARD_UPDATE_INTERVAL_MS: intIn(500, 60_000, 1_000),
};

const replyModeOf = (env: Readonly<Record<string, string | undefined>>) => (env.DINGTALK_REPLY_MODE ?? 'markdown').trim().toLowerCase();

/** Card mode needs a template to create cards from. */
export const CARD_RULES: readonly ConditionalRule[] = [
  (env) =>
    replyModeOf(env) === 'card' && !env.DINGTALK_CARD_TEMPLATE_ID?.trim()
      ? ['DINGTALK_CARD_TEMPLATE_ID is required when DINGTALK_REPLY_MODE=card (the id of your published AI-card template, e.g. 0a1b…-….schema; see README)']
      : [],
];

type CardEnv = z.output<z.ZodObject<typeof CARD_ENV>>;

export function toReplyConfig(e: CardEnv): ReplyConfig {
  return {
    mode: e.DINGTALK_REPLY_MODE,
    cardTemplateId: e.DINGTALK_CARD_TEMPLATE_ID ?? '',
    cardContentKey: e.DINGTALK_CARD_CONTENT_KEY,
    cardUpdateIntervalMs: e.CARD_UPDATE_INTERVAL_MS,
  };
}
