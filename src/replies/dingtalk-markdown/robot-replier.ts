import type { ChatMessage, ChatReplier } from '../../chat/chat-message.js';
import { CHAT_TEXTS } from '../../chat/chat-texts.js';
import type { Logger } from '../../logger.js';
import type { DingTalkApi } from '../../dingtalk/dingtalk-api.js';
import { isRobotReplyTarget, type RobotReplyTarget } from '../../dingtalk/robot-reply-target.js';
import { answerParts } from './answer-parts.js';
import { CallTally } from './call-tally.js';
import { toImMarkdown } from './dingtalk-markdown.js';
import { HeldReplies } from './held-replies.js';

export interface RobotReplierOptions {
  readonly api: DingTalkApi;
  /** The robot's code, which is the app key. */
  readonly robotCode: string;
  /** Timeout of one webhook POST (DINGTALK_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** DINGTALK_WEBHOOK_ORIGINS: a sessionWebhook anywhere else is never called (the OpenAPI answers). */
  readonly webhookOrigins: readonly string[];
  /** ANSWER_MAX_PARTS: an answer is never more messages than this (the last says it was cut). */
  readonly maxParts?: number;
  readonly now?: () => number;
}

/** Thrown when a reply could not be delivered by the webhook nor by the OpenAPI. */
export class ReplyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplyError';
  }
}

// Markdown renders badly past ~3,500 characters; a webhook body must stay under 20,000 bytes
// and the OpenAPI msgParam (JSON inside JSON) under 15,000, so the text budget is below both.
const MAX_PART_CHARS = 3_500;
const MAX_PART_JSON_BYTES = 14_000;
/** Room for the "(12/34)" marker and the blank line before it. */
const MARKER_RESERVE = 12;
/** Do not use a webhook that expires this soon: the POST could land after expiry. */
const WEBHOOK_EXPIRY_MARGIN_MS = 10_000;
const WEBHOOK_EXPIRED = 300001;
const DEFAULT_MAX_PARTS = 8;

/** How `send` continues an answer whose first part is already shown elsewhere (an AI card). */
export interface SendOptions {
  /** Parts already shown before these: numbering continues from there, and nobody is @-ed again. */
  readonly partsBefore?: number;
  /** Counts this send's DingTalk calls into the answer's tally. */
  readonly tally?: CallTally;
}

/**
 * Replies as the app robot: markdown to the message's sessionWebhook (only on an allowed
 * origin), falling back to the robot OpenAPI (group send / one-to-one batch send) when the
 * webhook expired, failed or is elsewhere. Long answers go out as several messages (at most
 * ANSWER_MAX_PARTS), in order, never cut inside a code block; in groups the first one @s the
 * sender. Text is first made DingTalk-safe (`toImMarkdown`). A direct reply that neither path
 * can deliver (no staff id for the OpenAPI) waits for the user's next message (`HeldReplies`).
 */
export class RobotReplier implements ChatReplier {
  private readonly now: () => number;
  private readonly origins: ReadonlySet<string>;
  private readonly held: HeldReplies;

  constructor(private readonly options: RobotReplierOptions) {
    this.now = options.now ?? Date.now;
    this.origins = new Set(options.webhookOrigins);
    this.held = new HeldReplies(this.now);
  }

  async reply(message: ChatMessage, text: string): Promise<void> {
    await this.send(message, text);
  }

  /** Sends `text` as one or more markdown messages; resolves how many. */
  async send(message: ChatMessage, text: string, options: SendOptions = {}): Promise<number> {
    const target = message.replyTarget;
    if (!isRobotReplyTarget(target)) throw new ReplyError('message has no robot reply target');
    const log = this.options.logger.child({ msgId: message.id, conversationId: target.conversationId });
    const route = { target, useWebhook: this.webhookUsable(target, log), log };
    if (route.useWebhook || target.staffId) await this.sendHeld(message, route);
    return this.sendParts(message, text, options, route);
  }

  private async sendParts(message: ChatMessage, text: string, options: SendOptions, route: Route): Promise<number> {
    const { target, log } = route;
    const before = options.partsBefore ?? 0;
    const tally = options.tally ?? new CallTally();
    const mention = target.conversationType === 'group' && before === 0 ? target.staffId : undefined;
    const reserve = MARKER_RESERVE + (mention ? mention.length + 2 : 0);
    const budget = { maxChars: MAX_PART_CHARS - reserve - 1, maxJsonBytes: MAX_PART_JSON_BYTES - reserve * 6 - 3 };
    const maxParts = Math.max(1, (this.options.maxParts ?? DEFAULT_MAX_PARTS) - before);
    const parts = answerParts(toImMarkdown(text), budget, maxParts, CHAT_TEXTS.answerPartsCut);
    const total = before + parts.length;
    for (const [i, part] of parts.entries()) {
      const marker = total > 1 ? `(${before + i + 1}/${total})` : undefined;
      const at = i === 0 ? mention : undefined;
      if (route.useWebhook) {
        tally.add('send');
        const outcome = await this.viaWebhook(target.webhook!, part, marker, at, log);
        if (outcome === 'sent') continue;
        // Expired or failing: send this and the remaining parts through the OpenAPI.
        route.useWebhook = false;
      }
      if (target.conversationType === 'direct' && !target.staffId) {
        this.hold(target, parts.slice(i).join('\n\n'), log);
        return i;
      }
      tally.add('send');
      await this.viaOpenApi(target, withSuffix(part, marker), log);
    }
    log.info('reply delivered', { parts: parts.length, via: route.useWebhook ? 'webhook' : 'openapi', dingtalkCalls: tally.toJSON() });
    return parts.length;
  }

  /** Replies held for this direct chat go first, now that there is a way to deliver them. */
  private async sendHeld(message: ChatMessage, route: Route): Promise<void> {
    for (const text of this.held.take(route.target.conversationId)) {
      route.log.info('delivering a reply held since an earlier message');
      await this.sendParts(message, `${CHAT_TEXTS.heldReplyIntro}\n\n${text}`, {}, route);
    }
  }

  private hold(target: RobotReplyTarget, text: string, log: Logger): void {
    this.held.hold(target.conversationId, text);
    log.warn('reply held until the user writes again: no usable webhook, and no staff id for the robot OpenAPI', { held: this.held.size });
  }

  private webhookUsable(target: RobotReplyTarget, log: Logger): boolean {
    if (!target.webhook) return false;
    if (!this.origins.has(originOf(target.webhook))) {
      log.warn('sessionWebhook not on an allowed origin (DINGTALK_WEBHOOK_ORIGINS); using the robot OpenAPI', {
        origin: originOf(target.webhook).slice(0, 200),
      });
      return false;
    }
    return target.webhookExpiresAt === undefined || target.webhookExpiresAt - WEBHOOK_EXPIRY_MARGIN_MS > this.now();
  }

  private async viaWebhook(
    webhook: string,
    part: string,
    marker: string | undefined,
    at: string | undefined,
    log: Logger,
  ): Promise<'sent' | 'failed'> {
    const body = {
      msgtype: 'markdown',
      markdown: { title: titleOf(part), text: withSuffix(part, marker, at) },
      at: { atUserIds: at ? [at] : [], isAtAll: false },
    };
    try {
      const res = await this.options.api.postToWebhook(webhook, body, this.options.timeoutMs);
      const errcode = (res.data as { errcode?: unknown } | undefined)?.errcode;
      if (res.status === 200 && errcode === 0) return 'sent';
      const reason = errcode === WEBHOOK_EXPIRED ? 'webhook expired' : 'webhook refused the reply';
      log.warn(`${reason}; using the robot OpenAPI`, { status: res.status, errcode });
    } catch (err) {
      log.warn('webhook call failed; using the robot OpenAPI', { err: String(err) });
    }
    return 'failed';
  }

  private async viaOpenApi(target: RobotReplyTarget, text: string, log: Logger): Promise<void> {
    const msgParam = JSON.stringify({ title: titleOf(text), text });
    const { api, robotCode, timeoutMs } = this.options;
    try {
      if (target.conversationType === 'group') {
        await api.request({
          method: 'POST',
          path: '/v1.0/robot/groupMessages/send',
          body: { robotCode, openConversationId: target.conversationId, msgKey: 'sampleMarkdown', msgParam },
          timeoutMs,
        });
        return;
      }
      if (!target.staffId) throw new ReplyError('direct reply needs the sender staff id');
      const res = await api.request<{ invalidStaffIdList?: string[]; flowControlledStaffIdList?: string[] }>({
        method: 'POST',
        path: '/v1.0/robot/oToMessages/batchSend',
        body: { robotCode, userIds: [target.staffId], msgKey: 'sampleMarkdown', msgParam },
        timeoutMs,
      });
      const refused = [...(res?.invalidStaffIdList ?? []), ...(res?.flowControlledStaffIdList ?? [])];
      if (refused.includes(target.staffId)) throw new ReplyError('recipient refused or rate-limited by DingTalk');
    } catch (err) {
      log.warn('robot OpenAPI send failed', { err: String(err) });
      throw err instanceof ReplyError ? err : new ReplyError(`robot OpenAPI send failed: ${String(err)}`, { cause: err });
    }
  }
}

/** How one reply goes out: the webhook until it fails, then the OpenAPI. */
interface Route {
  readonly target: RobotReplyTarget;
  useWebhook: boolean;
  readonly log: Logger;
}

/** `scheme://host[:port]` of a URL; '' when it is not one. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

function withSuffix(part: string, marker?: string, at?: string): string {
  const suffix = [marker, at ? `@${at}` : undefined].filter(Boolean).join(' ');
  return suffix ? `${part}\n\n${suffix}` : part;
}

/** The notification preview: the first line without markdown marks, short. */
function titleOf(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const plain = Array.from(line.replace(/[#>*`_~[\]]/g, '').trim());
  if (plain.length === 0) return 'AI 助手';
  return plain.length > 24 ? `${plain.slice(0, 24).join('')}…` : plain.join('');
}
