import type { Config } from '../config/config.js';

/** Whether chat answers go out as AI cards (DINGTALK_REPLY_MODE=card), which need two more permissions. */
export function cardRepliesOn(config: Config): boolean {
  return config.replies.mode === 'card';
}
