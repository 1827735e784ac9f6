import { randomUUID } from 'node:crypto';
import { dingError, type FakeHttpServer, type FakeRequest, type FakeResponse } from './fake-http-server.js';

/**
 * DingTalk's AI-card endpoints on a FakeHttpServer (backends-2026.md §2.1–2.3):
 * `POST /v1.0/card/instances/createAndDeliver`, `PUT /v1.0/card/streaming` and
 * `PUT /v1.0/card/instances`, with their documented errors (`param.templateNotExist`,
 * `param.templateUnpublished`, `param.cardAlreadyExist`, `param.openSpaceIdInvalid`,
 * `param.openDeliverModelEmpty`, `param.stream.contentEmpty`, `param.stream.outTrackId`,
 * `param.stream.isFull`, `param.stream.content` too large), 403 QpsLimit, 403 missing
 * permission with `accessdenieddetail.requiredScopes`, and a 200 whose `deliverResults` says
 * `success: false`. Every card and every update is recorded with its time.
 */
export type CardScope = 'Card.Instance.Write' | 'Card.Streaming.Write';
export type CardEndpoint = 'create' | 'stream' | 'instances';
export type CardState = 'processing' | 'inputing' | 'finished' | 'failed';

export interface FakeCardUpdate {
  readonly via: 'streaming' | 'instances';
  readonly guid?: string;
  readonly key: string;
  readonly content: string;
  readonly isFinalize: boolean;
  readonly isError: boolean;
  /** Date.now() when the fake received it. */
  readonly at: number;
  /** The card was already finished or failed when this update came. */
  readonly afterClose: boolean;
}

export interface FakeCard {
  readonly outTrackId: string;
  readonly templateId: string;
  readonly space: { readonly kind: 'group' | 'direct'; readonly id: string };
  readonly atUserIds: Readonly<Record<string, string>>;
  readonly params: Record<string, string>;
  readonly createdAt: number;
  /** False when the create answered `deliverResults[].success: false` (nobody sees it). */
  readonly delivered: boolean;
  state: CardState;
  readonly updates: FakeCardUpdate[];
}

export interface FakeCardTemplate {
  readonly published: boolean;
}

export interface FakeCardApiOptions {
  readonly robotCode: string;
  readonly checkAuth?: (req: FakeRequest) => FakeResponse | undefined;
}

/** The template every fake DingTalk knows, published, streaming into `content`. */
export const FAKE_CARD_TEMPLATE_ID = 'a1b2c3d4-0000-4000-8000-00000000ca7d.schema';

/** A scripted answer for the next calls: an error, or (create) a delivery that fails. */
interface Queued {
  times: number;
  readonly response?: () => FakeResponse;
  readonly deliveryError?: string;
}

export class FakeCardApi {
  readonly cards = new Map<string, FakeCard>();
  readonly templates = new Map<string, FakeCardTemplate>([[FAKE_CARD_TEMPLATE_ID, { published: true }]]);
  /** Scopes the app does not hold: calls needing them answer 403 with `requiredScopes`. */
  readonly deniedScopes = new Set<CardScope>();
  /** Every error answered, in order. */
  readonly rejections: Array<{ endpoint: CardEndpoint; status: number; code: string; outTrackId?: string; at: number }> = [];
  readonly calls: Record<CardEndpoint, number> = { create: 0, stream: 0, instances: 0 };
  /** Largest streamed content accepted, in characters (the real limit is unknown; peers send ~3 K+). */
  maxContentChars = 20_000;
  private readonly queued = new Map<CardEndpoint, Queued[]>();

  constructor(
    server: FakeHttpServer,
    private readonly options: FakeCardApiOptions,
  ) {
    server.route('POST', '/v1.0/card/instances/createAndDeliver', (req) => this.handle('create', req, () => this.create(req)));
    server.route('PUT', '/v1.0/card/streaming', (req) => this.handle('stream', req, () => this.stream(req)));
    server.route('PUT', '/v1.0/card/instances', (req) => this.handle('instances', req, () => this.updateInstance(req)));
  }

  /** The next `times` calls to `endpoint` answer 403 QpsLimit. */
  throttleNext(endpoint: CardEndpoint, times = 1): void {
    this.queue(endpoint, { times, response: () => dingError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '您的应用调用该接口的频率过高，请稍后重试') });
  }

  /** The next `times` creates answer 200 with `deliverResults[0].success: false`. */
  failDeliveryNext(times = 1, errorMsg = 'robot is not a member of the conversation'): void {
    this.queue('create', { times, deliveryError: errorMsg });
  }

  /** The next `times` calls to `endpoint` answer this error (e.g. 500 system.busy). */
  failNext(endpoint: CardEndpoint, status: number, code: string, times = 1): void {
    this.queue(endpoint, { times, response: () => dingError(status, code, code) });
  }

  /** Cards in a group (`cid…`) or a direct chat (the staff id), oldest first. */
  cardsIn(spaceId: string): FakeCard[] {
    return [...this.cards.values()].filter((c) => c.space.id === spaceId);
  }

  /** Delivered cards still in 处理中 or 输入中 (spinning for the user). */
  openCards(): FakeCard[] {
    return [...this.cards.values()].filter((c) => c.delivered && (c.state === 'processing' || c.state === 'inputing'));
  }

  /** Errors other than the start-up permission probe (a streaming update of a card that does not exist). */
  unexpectedRejections(): FakeCardApi['rejections'] {
    // Permission probes (the replier's at start-up, the readiness check's) update a card that does not exist.
    return this.rejections.filter((r) => !String(r.outTrackId).startsWith('card_probe_'));
  }

  /** Every update of every card, in arrival order. */
  allUpdates(): Array<FakeCardUpdate & { outTrackId: string }> {
    return [...this.cards.values()]
      .flatMap((c) => c.updates.map((u) => ({ ...u, outTrackId: c.outTrackId })))
      .sort((a, b) => a.at - b.at);
  }

  private queue(endpoint: CardEndpoint, item: Queued): void {
    const list = this.queued.get(endpoint) ?? [];
    list.push(item);
    this.queued.set(endpoint, list);
  }

  private takeQueued(endpoint: CardEndpoint): Queued | undefined {
    const list = this.queued.get(endpoint);
    const item = list?.[0];
    if (item && --item.times <= 0) list!.shift();
    return item;
  }

  private handle(endpoint: CardEndpoint, req: FakeRequest, work: () => FakeResponse): FakeResponse {
    this.calls[endpoint]++;
    const out = this.answer(endpoint, req, work);
    if (out.status >= 400) {
      const code = String((out.body as { code?: unknown })?.code);
      this.rejections.push({ endpoint, status: out.status, code, outTrackId: req.body?.outTrackId, at: Date.now() });
    }
    return out;
  }

  private answer(endpoint: CardEndpoint, req: FakeRequest, work: () => FakeResponse): FakeResponse {
    const denied = this.options.checkAuth?.(req);
    if (denied) return denied;
    const scope: CardScope = endpoint === 'stream' ? 'Card.Streaming.Write' : 'Card.Instance.Write';
    if (this.deniedScopes.has(scope)) return permissionDenied(scope);
    const queued = this.takeQueued(endpoint);
    if (queued?.response) return queued.response();
    if (queued?.deliveryError !== undefined) return this.create(req, queued.deliveryError);
    return work();
  }

  private create(req: FakeRequest, deliveryError?: string): FakeResponse {
    const b = req.body ?? {};
    const template = this.templates.get(String(b.cardTemplateId ?? ''));
    if (!template) return dingError(400, 'param.templateNotExist', 'param.templateNotExist');
    if (!template.published) return dingError(400, 'param.templateUnpublished', 'param.templateUnpublished');
    if (typeof b.outTrackId !== 'string' || b.outTrackId === '') return dingError(400, 'param.empty', 'outTrackId is empty');
    if (this.cards.has(b.outTrackId)) return dingError(400, 'param.cardAlreadyExist', 'param.cardAlreadyExist');
    const params = b.cardData?.cardParamMap ?? {};
    if (Object.values(params).some((v) => typeof v !== 'string')) {
      return dingError(400, 'param.cardParamMapInvalid', 'cardParamMap values must be strings'); // code is our guess
    }
    const space = parseSpace(b.openSpaceId);
    if (!space) return dingError(400, 'param.openSpaceIdInvalid', 'param.openSpaceIdInvalid');
    const deliver = space.kind === 'group' ? b.imGroupOpenDeliverModel : b.imRobotOpenDeliverModel;
    if (!deliver || (space.kind === 'direct' && deliver.spaceType !== 'IM_ROBOT')) {
      return dingError(400, 'param.openDeliverModelEmpty', 'param.openDeliverModelEmpty');
    }
    const robotOk = deliver.robotCode === this.options.robotCode;
    const failure = deliveryError ?? (robotOk ? undefined : 'robotCode is invalid');
    this.cards.set(b.outTrackId, {
      outTrackId: b.outTrackId,
      templateId: b.cardTemplateId,
      space,
      atUserIds: deliver.atUserIds ?? {},
      params: { ...params },
      createdAt: Date.now(),
      delivered: failure === undefined,
      state: 'processing',
      updates: [],
    });
    const result = {
      spaceType: space.kind === 'group' ? 'IM_GROUP' : 'IM_ROBOT',
      spaceId: space.id,
      success: failure === undefined,
      ...(failure === undefined ? { carrierId: randomUUID() } : { errorMsg: failure }),
    };
    return { status: 200, body: { success: true, result: { outTrackId: b.outTrackId, deliverResults: [result] } } };
  }

  private stream(req: FakeRequest): FakeResponse {
    const b = req.body ?? {};
    if (typeof b.key !== 'string' || b.key === '') return dingError(400, 'param.stream.keyEmpty', 'key is empty');
    if (typeof b.guid !== 'string' || b.guid === '') return dingError(400, 'param.stream.guidEmpty', 'guid is empty');
    if (typeof b.content !== 'string' || b.content === '') return dingError(400, 'param.stream.contentEmpty', 'content is empty');
    const card = this.cards.get(String(b.outTrackId ?? ''));
    if (!card) return dingError(400, 'param.stream.outTrackId', 'card is not exist');
    if (b.isFull !== true) return dingError(400, 'param.stream.isFull', 'markdown content must be full'); // bound to markdown
    if (b.content.length > this.maxContentChars) return dingError(400, 'param.stream.content', 'content is too large');
    if (card.updates.some((u) => u.guid === b.guid)) return ok(); // the guid is the idempotency key
    const isFinalize = b.isFinalize === true;
    const isError = b.isError === true;
    card.updates.push({ via: 'streaming', guid: b.guid, key: b.key, content: b.content, isFinalize, isError, at: Date.now(), afterClose: closed(card) });
    card.params[b.key] = b.content;
    if (isError) card.state = 'failed';
    else if (isFinalize) card.state = 'finished';
    else if (card.state === 'processing') card.state = 'inputing';
    return ok();
  }

  private updateInstance(req: FakeRequest): FakeResponse {
    const b = req.body ?? {};
    const card = this.cards.get(String(b.outTrackId ?? ''));
    if (!card) return dingError(400, 'param.cardNotExist', 'card is not exist'); // code is our guess
    const params: Record<string, unknown> = b.cardData?.cardParamMap ?? {};
    if (Object.values(params).some((v) => typeof v !== 'string')) return dingError(400, 'param.cardParamMapInvalid', 'values must be strings');
    if (b.cardUpdateOptions?.updateCardDataByKey !== true) for (const k of Object.keys(card.params)) delete card.params[k];
    Object.assign(card.params, params);
    const flow = card.params.flowStatus;
    const afterClose = closed(card);
    if (flow === '3') card.state = 'finished';
    if (flow === '5') card.state = 'failed';
    const key = Object.keys(params).find((k) => k !== 'flowStatus') ?? '';
    card.updates.push({ via: 'instances', key, content: String(params[key] ?? ''), isFinalize: flow === '3', isError: flow === '5', at: Date.now(), afterClose });
    return ok();
  }
}

function ok(): FakeResponse {
  return { status: 200, body: { success: true, result: true } };
}

function closed(card: FakeCard): boolean {
  return card.state === 'finished' || card.state === 'failed';
}

function parseSpace(openSpaceId: unknown): FakeCard['space'] | undefined {
  const m = /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/.exec(String(openSpaceId ?? ''));
  if (!m) return undefined;
  return { kind: m[1] === 'IM_GROUP' ? 'group' : 'direct', id: m[2]! };
}

function permissionDenied(scope: CardScope): FakeResponse {
  return {
    status: 403,
    body: {
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      requestid: `req-${randomUUID()}`,
      message: `没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp/add-api-permission`,
      accessdenieddetail: { accessCode: 'Forbidden.AccessDenied', requiredScopes: [scope] },
    },
  };
}
