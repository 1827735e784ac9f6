import type { ChatMessage } from '../../chat/chat-message.js';
import { DingTalkApiError, type DingTalkApi } from '../../dingtalk/dingtalk-api.js';
import { isRobotReplyTarget } from '../../dingtalk/robot-reply-target.js';

/** Where a card goes: a group, or the direct chat with one person (their org user id). */
export type CardTarget = {
  readonly conversationType: 'group' | 'direct';
  readonly conversationId: string;
  /** The asker: the recipient of a direct card, @-mentioned on a group card. */
  readonly staffId?: string;
  readonly name?: string;
};

/** The card target of a message, or undefined when none can be built (a direct chat without a staff id). */
export function cardTargetOf(message: ChatMessage): CardTarget | undefined {
  const t = message.replyTarget;
  if (!isRobotReplyTarget(t)) return undefined;
  if (t.conversationType === 'direct' && !t.staffId) return undefined;
  return { conversationType: t.conversationType, conversationId: t.conversationId, staffId: t.staffId, name: message.sender.name };
}

/**
 * Why a card call failed, in our words. `permission`, `template`, `delivery` and `quota` mean
 * cards cannot work for now (fall back to markdown for a while); `throttled` means slow down;
 * `missing` means the card does not exist; `unavailable` (5xx, timeout, no answer) is ambiguous.
 */
export type CardFailure = 'permission' | 'template' | 'delivery' | 'quota' | 'throttled' | 'missing' | 'rejected' | 'unavailable';

export class CardApiError extends Error {
  constructor(
    readonly kind: CardFailure,
    message: string,
    readonly detail: { status?: number; code?: string; requiredScopes?: readonly string[]; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'CardApiError';
  }
}

export interface CardApiOptions {
  readonly api: DingTalkApi;
  /** The robot's code (the app key). */
  readonly robotCode: string;
  readonly templateId: string;
  /** The template's streaming markdown variable. */
  readonly contentKey: string;
  /** Timeout of one card call. */
  readonly timeoutMs: number;
}

/**
 * DingTalk's AI-card calls (backends-2026.md §2): create and deliver, stream the content key,
 * update the instance. Vendor field names stay in this file; errors become `CardApiError`.
 */
export class CardApi {
  constructor(private readonly options: CardApiOptions) {}

  /** Creates the card (showing its thinking state) and delivers it; throws `delivery` when DingTalk could not. */
  async create(outTrackId: string, target: CardTarget, placeholder: string): Promise<void> {
    const { robotCode, templateId, contentKey } = this.options;
    const group = target.conversationType === 'group';
    const mention = group && target.staffId ? { atUserIds: { [target.staffId]: target.name ?? target.staffId } } : {};
    const body = {
      cardTemplateId: templateId,
      outTrackId,
      callbackType: 'STREAM',
      // Every value a string, and never an empty content.
      cardData: { cardParamMap: { [contentKey]: placeholder } },
      ...(group
        ? {
            openSpaceId: `dtv1.card//IM_GROUP.${target.conversationId}`,
            imGroupOpenSpaceModel: { supportForward: true },
            imGroupOpenDeliverModel: { robotCode, ...mention },
          }
        : {
            openSpaceId: `dtv1.card//IM_ROBOT.${target.staffId}`,
            imRobotOpenSpaceModel: { supportForward: true },
            imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode },
          }),
      userIdType: 1,
    };
    const res = await this.call<{ result?: { deliverResults?: Array<{ success?: boolean; errorMsg?: string }> } }>(
      'POST',
      '/v1.0/card/instances/createAndDeliver',
      body,
    );
    // A 200 can still say the card reached nobody.
    const failed = res?.result?.deliverResults?.find((r) => r?.success === false);
    if (failed) throw new CardApiError('delivery', `card not delivered: ${failed.errorMsg ?? 'no reason given'}`);
  }

  /** Shows `content` (the whole text) in the card; `final` closes it, `failed` in its failure state. */
  async stream(outTrackId: string, content: string, options: { final?: boolean; failed?: boolean; guid: string }): Promise<void> {
    await this.call('PUT', '/v1.0/card/streaming', {
      outTrackId,
      guid: options.guid,
      key: this.options.contentKey,
      content,
      isFull: true,
      isFinalize: options.final === true,
      isError: options.failed === true,
    });
  }

  /**
   * Closes a card without the streaming permission: writes the content and the finished (3) or
   * failed (5) flow status with an instance update, merged by key.
   */
  async closeByInstance(outTrackId: string, content: string, failed: boolean): Promise<void> {
    await this.call('PUT', '/v1.0/card/instances', {
      outTrackId,
      cardData: { cardParamMap: { [this.options.contentKey]: content, flowStatus: failed ? '5' : '3' } },
      cardUpdateOptions: { updateCardDataByKey: true },
    });
  }

  private async call<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T> {
    try {
      return await this.options.api.request<T>({ method, path, body, timeoutMs: this.options.timeoutMs });
    } catch (err) {
      throw toCardApiError(err);
    }
  }
}

export function toCardApiError(err: unknown): CardApiError {
  if (err instanceof CardApiError) return err;
  if (!(err instanceof DingTalkApiError)) return new CardApiError('unavailable', String(err));
  const detail = { status: err.status, code: err.code, requiredScopes: err.requiredScopes, retryAfterMs: err.retryAfterMs };
  return new CardApiError(failureOf(err), err.message, detail);
}

function failureOf(err: DingTalkApiError): CardFailure {
  const { status, code } = err;
  if (status === 429 || /QpsLimit|Throttl|FlowControl/i.test(code)) return 'throttled';
  if (/ApiCountLimit/i.test(code)) return 'quota';
  if (status === 403 || status === 401) return 'permission';
  if (code.startsWith('param.template')) return 'template';
  if (code === 'param.stream.outTrackId' || code === 'param.cardNotExist') return 'missing';
  if (status >= 500) return 'unavailable';
  return 'rejected';
}
