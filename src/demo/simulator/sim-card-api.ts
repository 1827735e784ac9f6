import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CardStatus, ChatRoom } from '../chat/chat-room.js';
import type { SimTokens } from './sim-tokens.js';
import { objectBody, sendDingError, type SimCredentials, type WireLog } from './sim-replies.js';

export interface CardApiDeps {
  readonly room: ChatRoom;
  readonly tokens: SimTokens;
  readonly credentials: SimCredentials;
  readonly wire: WireLog;
}

interface Card {
  readonly id: string;
  readonly conversationId: string;
  params: Record<string, string>;
  /** The variable the streaming calls write (the template's markdown), once known. */
  contentKey?: string;
  status: CardStatus;
  readonly guids: Set<string>;
}

/** `flowStatus` values of the AI-card template (PY SDK, OFC, SOI). */
const FLOW_STATUS: Record<string, CardStatus> = { '1': 'processing', '2': 'inputing', '3': 'finished', '4': 'executing', '5': 'failed' };
const SPACE = /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/;
const MAX_CARDS = 500;

/**
 * DingTalk's AI-card endpoints (backends-2026.md §2): `POST /v1.0/card/instances/createAndDeliver`
 * into a group (`IM_GROUP.<conversationId>`) or a direct chat (`IM_ROBOT.<staffId>`),
 * `PUT /v1.0/card/streaming` (full text with `isFull`, `isFinalize` → finished, `isError` →
 * failed, empty content refused) and `PUT /v1.0/card/instances` (variables such as `flowStatus`).
 */
export class SimCardApi {
  private readonly cards = new Map<string, Card>();

  constructor(private readonly deps: CardApiDeps) {}

  register(app: FastifyInstance): void {
    app.post('/v1.0/card/instances/createAndDeliver', async (req, reply) =>
      this.deps.tokens.refused(req, reply) ? reply : this.create(objectBody(req.body), reply),
    );
    app.put('/v1.0/card/streaming', async (req, reply) => (this.deps.tokens.refused(req, reply) ? reply : this.stream(objectBody(req.body), reply)));
    app.put('/v1.0/card/instances', async (req, reply) => (this.deps.tokens.refused(req, reply) ? reply : this.update(objectBody(req.body), reply)));
  }

  private create(body: Record<string, any>, reply: FastifyReply) {
    if (typeof body.cardTemplateId !== 'string' || body.cardTemplateId === '') {
      return sendDingError(reply, 400, 'param.templateNotExist', '卡片模板不存在');
    }
    const id = body.outTrackId;
    if (typeof id !== 'string' || id === '') return sendDingError(reply, 400, 'param.outTrackIdEmpty', 'outTrackId 不能为空');
    if (this.cards.has(id)) return sendDingError(reply, 400, 'param.cardAlreadyExist', '卡片已存在');
    const params = stringParams(body.cardData?.cardParamMap);
    // Our wording: DingTalk documents that every value must be a string, not the error code.
    if (!params) return sendDingError(reply, 400, 'param.cardParamMapInvalid', 'cardParamMap 的值必须是字符串');
    const space = SPACE.exec(String(body.openSpaceId ?? ''));
    if (!space) return sendDingError(reply, 400, 'param.openSpaceIdInvalid', 'openSpaceId 不合法');
    const [, spaceType, spaceId] = space as unknown as [string, 'IM_GROUP' | 'IM_ROBOT', string];
    const deliverModel = spaceType === 'IM_GROUP' ? body.imGroupOpenDeliverModel : body.imRobotOpenDeliverModel;
    if (typeof deliverModel !== 'object' || deliverModel === null) {
      return sendDingError(reply, 400, 'param.openDeliverModelEmpty', '投放参数不能为空');
    }
    if (spaceType === 'IM_GROUP' && deliverModel.robotCode !== this.deps.credentials.appKey) {
      return sendDingError(reply, 400, 'param.robotCodeInvalid', 'robotCode 无效');
    }
    const conversation = spaceType === 'IM_GROUP' ? this.deps.room.conversation(spaceId) : this.deps.room.directOf(spaceId);
    if (!conversation || (spaceType === 'IM_GROUP' && conversation.kind !== 'group')) {
      // DingTalk answers 200 and reports the failed delivery per space.
      this.deps.wire('card', `card ${id}: delivery failed (unknown ${spaceType} space)`);
      return { success: true, result: { outTrackId: id, deliverResults: [{ spaceType, spaceId, success: false, errorMsg: 'space not found' }] } };
    }
    const card: Card = { id, conversationId: conversation.id, params, status: FLOW_STATUS[params.flowStatus ?? ''] ?? 'processing', guids: new Set() };
    this.remember(card);
    this.show(card, false);
    this.deps.wire('card', `card ${shortId(id)} created and delivered (${spaceType})`);
    const carrierId = randomUUID();
    return { success: true, result: { outTrackId: id, deliverResults: [{ spaceType, spaceId, success: true, carrierId }] } };
  }

  private stream(body: Record<string, any>, reply: FastifyReply) {
    const card = this.cards.get(String(body.outTrackId ?? ''));
    if (!card) return sendDingError(reply, 400, 'param.stream.outTrackId', 'card is not exist');
    if (typeof body.key !== 'string' || body.key === '') return sendDingError(reply, 400, 'param.stream.keyEmpty', 'key 不能为空');
    if (typeof body.guid !== 'string' || body.guid === '') return sendDingError(reply, 400, 'param.stream.guidEmpty', 'guid 不能为空');
    if (typeof body.content !== 'string' || body.content === '') {
      return sendDingError(reply, 400, 'param.stream.contentEmpty', 'content 不能为空');
    }
    if (card.guids.has(body.guid)) return { success: true, result: true }; // the same call again: no effect
    card.guids.add(body.guid);
    card.contentKey = body.key;
    card.params[body.key] = body.isFull === false ? (card.params[body.key] ?? '') + body.content : body.content;
    card.status = body.isError === true ? 'failed' : body.isFinalize === true ? 'finished' : 'inputing';
    this.show(card, true);
    if (card.status !== 'inputing') this.deps.wire('card', `card ${shortId(card.id)} ${card.status} (streaming)`);
    return { success: true, result: true };
  }

  private update(body: Record<string, any>, reply: FastifyReply) {
    const card = this.cards.get(String(body.outTrackId ?? ''));
    // Our wording: the code DingTalk uses for an unknown card here is not documented.
    if (!card) return sendDingError(reply, 400, 'param.cardNotExist', 'card is not exist');
    const params = stringParams(body.cardData?.cardParamMap);
    if (!params) return sendDingError(reply, 400, 'param.cardParamMapInvalid', 'cardParamMap 的值必须是字符串');
    // Without updateCardDataByKey DingTalk replaces all of the card's data.
    card.params = body.cardUpdateOptions?.updateCardDataByKey === true ? { ...card.params, ...params } : params;
    const status = FLOW_STATUS[params.flowStatus ?? ''];
    if (status) card.status = status;
    this.show(card, true);
    if (status) this.deps.wire('card', `card ${shortId(card.id)} flowStatus ${params.flowStatus} (${status})`);
    return { success: true, result: true };
  }

  private show(card: Card, update: boolean): void {
    const key = card.contentKey ?? ['content', 'msgContent'].find((k) => card.params[k] !== undefined);
    const text = (key ? card.params[key] : '') ?? '';
    this.deps.room.showCard(card.id, card.conversationId, { text: text.trim(), status: card.status, update });
  }

  private remember(card: Card): void {
    this.cards.set(card.id, card);
    if (this.cards.size > MAX_CARDS) this.cards.delete(this.cards.keys().next().value!);
  }
}

/** The map when every value is a string (DingTalk's rule), else undefined. */
function stringParams(map: unknown): Record<string, string> | undefined {
  if (map === undefined) return {};
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return undefined;
  const entries = Object.entries(map as Record<string, unknown>);
  return entries.every(([, v]) => typeof v === 'string') ? (Object.fromEntries(entries) as Record<string, string>) : undefined;
}

function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}
