import type { ChatReplier } from '../chat/chat-message.js';
import type { Config } from '../config/config.js';
import type { DingTalkApi } from '../dingtalk/dingtalk-api.js';
import type { Logger } from '../logger.js';
import type { MessageLedger } from '../storage/message-ledger.js';
import type { OpenCardStore } from '../storage/open-card-store.js';
import { CardReplier } from './dingtalk-ai-card/card-replier.js';
import { RobotReplier } from './dingtalk-markdown/robot-replier.js';

/** The chat replier DINGTALK_REPLY_MODE names, with what it needs around the Stream's lifetime. */
export interface ChatReplies {
  readonly replier: ChatReplier;
  /** Before the Stream connects: closes the cards a crash left open (card mode). */
  start(ledger: MessageLedger): Promise<void>;
  /** After intake stopped: closes the cards being written (bounded). */
  stop(): Promise<void>;
}

export interface RepliesDeps {
  readonly config: Config;
  readonly api: DingTalkApi;
  readonly cards: OpenCardStore;
  readonly logger: Logger;
}

/** Markdown messages (default), or AI cards that fall back to them. */
export function selectReplies({ config, api, cards, logger }: RepliesDeps): ChatReplies {
  const { dingtalk } = config;
  const { webhookOrigins, answerMaxParts } = config.chatLimits;
  const markdown = new RobotReplier({ api, robotCode: dingtalk.appKey, timeoutMs: dingtalk.timeoutMs, logger, webhookOrigins, maxParts: answerMaxParts });
  if (config.replies.mode !== 'card' || !config.chat.streamEnabled) {
    return { replier: markdown, start: async () => {}, stop: async () => {} };
  }
  const replier = new CardReplier({
    api,
    markdown,
    store: cards,
    robotCode: dingtalk.appKey,
    replies: config.replies,
    callTimeoutMs: dingtalk.timeoutMs,
    answerTimeoutMs: config.assistant.answerTimeoutMs,
    logger,
  });
  return {
    replier,
    async start(ledger) {
      const pending = await ledger.pending().catch(() => []);
      await replier.start(new Set(pending.map((e) => e.id)));
    },
    stop: () => replier.stop(),
  };
}
