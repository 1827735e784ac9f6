import { z } from 'zod';
import { intIn } from './env-fields.js';

/**
 * Limits of the chat door (issue 13): how often the bot may speak up in refusals and thinking
 * notices, how big a Stream frame and an answer may be, and where replies may be posted.
 * Spread into ENV_SCHEMA; the values land in `Config.chatLimits`.
 */
export interface ChatLimitsConfig {
  /** A refusal (busy, too fast, not allowed, blocked) is said once per sender and conversation per this window. */
  readonly refusalNoticeMs: number;
  /** At most one thinking notice per group per this window. */
  readonly groupThinkingNoticeMs: number;
  /** Stream frames above this are acked as unusable, never parsed whole. */
  readonly frameMaxBytes: number;
  /** A streamed answer stops growing here; the rest is cut with a note. */
  readonly answerMaxChars: number;
  /** An answer is never more than this many messages. */
  readonly answerMaxParts: number;
  /** Origins (`scheme://host[:port]`) a sessionWebhook may point at. */
  readonly webhookOrigins: readonly string[];
}

/** A comma-separated list of origins: `https://host` with an optional port, nothing after it. */
const origins = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((v, ctx): string[] => {
      const parts = v.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = parts.filter((p) => originOf(p) === undefined);
      if (parts.length === 0 || bad.length > 0) {
        const what = bad.length > 0 ? `${bad.join(', ')} is not an origin` : 'is empty';
        ctx.addIssue({ code: 'custom', message: `${what}: list origins like https://oapi.dingtalk.com (scheme and host, no path), comma-separated` });
        return z.NEVER;
      }
      return parts.map((p) => originOf(p)!);
    });

/** The origin `text` names exactly (`https://host[:port]`, an optional trailing slash), else undefined. */
function originOf(text: string): string | undefined {
  try {
    const u = new URL(text);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/** The chat-door variables, spread into ENV_SCHEMA. */
export const CHAT_LIMITS_ENV = {
  CHAT_REFUSAL_NOTICE_SECONDS: intIn(1, 24 * 3600, 60),
  THINKING_NOTICE_GROUP_SECONDS: intIn(0, 3600, 30),
  STREAM_FRAME_MAX_KB: intIn(64, 8 * 1024, 1024),
  ANSWER_MAX_CHARS: intIn(1_000, 1_000_000, 64_000),
  ANSWER_MAX_PARTS: intIn(1, 50, 8),
  DINGTALK_WEBHOOK_ORIGINS: origins('https://oapi.dingtalk.com'),
};

type ChatLimitsEnv = z.output<z.ZodObject<typeof CHAT_LIMITS_ENV>>;

export function toChatLimitsConfig(e: ChatLimitsEnv): ChatLimitsConfig {
  return {
    refusalNoticeMs: e.CHAT_REFUSAL_NOTICE_SECONDS * 1000,
    groupThinkingNoticeMs: e.THINKING_NOTICE_GROUP_SECONDS * 1000,
    frameMaxBytes: e.STREAM_FRAME_MAX_KB * 1024,
    answerMaxChars: e.ANSWER_MAX_CHARS,
    answerMaxParts: e.ANSWER_MAX_PARTS,
    webhookOrigins: e.DINGTALK_WEBHOOK_ORIGINS,
  };
}
