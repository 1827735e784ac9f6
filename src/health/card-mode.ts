import type { Config } from '../config/config.js';

/**
 * Whether chat answers go out as AI cards (DINGTALK_REPLY_MODE=card), which need two more
 * permissions. The variable belongs to the card replier's config section, which lands
 * separately: read it wherever it appears, and from the raw env when there is one (doctor).
 */
export function cardRepliesOn(config: Config, env?: Readonly<Record<string, string | undefined>>): boolean {
  const sections = config as unknown as Record<string, Record<string, unknown> | undefined>;
  const fromConfig = [sections.replies?.mode, sections.cards?.mode, sections.chat?.replyMode, sections.dingtalk?.replyMode];
  const values = [...fromConfig, env?.DINGTALK_REPLY_MODE];
  return values.some((v) => typeof v === 'string' && v.trim().toLowerCase() === 'card');
}
