import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { FakeHttpServer, FakeRequest, FakeResponse } from './fake-http-server.js';
import { nextSeq } from './fake-stream-gateway.js';

export interface RecordedReply {
  readonly via: 'webhook' | 'group-send' | 'oto-send';
  readonly conversationId: string;
  readonly text: string;
  readonly title: string;
  readonly atUserIds: readonly string[];
  /** For OpenAPI sends: the recipients (DM) or undefined. */
  readonly userIds?: readonly string[];
  readonly seq: number;
}

interface Session {
  readonly conversationId: string;
  expired: boolean;
}

export interface RobotMessageInput {
  readonly conversationId: string;
  readonly group?: boolean;
  readonly staffId?: string;
  readonly senderId?: string;
  readonly nick?: string;
  readonly msgId?: string;
  readonly text?: string;
  /** Overrides msgtype and adds `content` (picture, file, richText, audio...). */
  readonly msgtype?: string;
  readonly content?: object;
  /** Epoch ms the webhook expires; default createAt + 90 min. */
  readonly webhookExpiresAt?: number;
  readonly createAt?: number;
}

/**
 * DingTalk's robot reply paths on a FakeHttpServer: per-message session webhooks and the two
 * OpenAPI sends. Every reply is recorded (conversation, text, @s) for assertions.
 */
export class FakeRobotApi {
  readonly replies: RecordedReply[] = [];
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly server: FakeHttpServer,
    private readonly options: { robotCode?: string; checkAuth?: (req: FakeRequest) => FakeResponse | undefined } = {},
  ) {
    server.route('POST', '/robot/sendBySession/:id', (req, res) => this.gated(res, () => this.webhook(req)));
    server.route('POST', '/v1.0/robot/groupMessages/send', (req, res) => this.gated(res, () => this.openApi(req, 'group-send')));
    server.route('POST', '/v1.0/robot/oToMessages/batchSend', (req, res) => this.gated(res, () => this.openApi(req, 'oto-send')));
  }

  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  /** Replies that arrived while held and whose sender hung up before `release` (never delivered). */
  abandonedWhileHeld = 0;

  /**
   * Holds every reply request from now on without acting on it, until `release`. A request
   * whose sender goes away meanwhile (its process killed) is never delivered, like a send
   * DingTalk never received.
   */
  hold(): void {
    this.gate ??= new Promise<void>((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
    this.openGate = undefined;
  }

  private async gated(res: http.ServerResponse, handle: () => FakeResponse): Promise<FakeResponse | undefined> {
    if (!this.gate) return handle();
    let hungUp = false;
    res.once('close', () => {
      hungUp = true;
    });
    while (this.gate) await this.gate;
    if (hungUp || res.destroyed) {
      this.abandonedWhileHeld++;
      return undefined;
    }
    return handle();
  }

  /** A robot callback payload (the `data` of a CALLBACK frame) with a webhook pointing here. */
  robotMessage(input: RobotMessageInput): Record<string, unknown> {
    const sessionId = randomUUID();
    this.sessions.set(sessionId, { conversationId: input.conversationId, expired: false });
    const createAt = input.createAt ?? Date.now();
    const staffId = input.staffId ?? 'staff-001';
    const msgtype = input.msgtype ?? 'text';
    return {
      msgId: input.msgId ?? `msg${randomUUID()}==`,
      msgtype,
      createAt,
      conversationType: input.group ? '2' : '1',
      conversationId: input.conversationId,
      ...(input.group ? { conversationTitle: 'Grade 10 Physics' } : {}),
      senderId: input.senderId ?? `$:LWCP_v1:$${staffId}`,
      senderStaffId: staffId,
      senderNick: input.nick ?? 'Student',
      chatbotUserId: '$:LWCP_v1:$bot',
      robotCode: this.options.robotCode ?? 'ding-fake-app-key',
      isInAtList: true,
      sessionWebhook: `${this.server.baseUrl}/robot/sendBySession/${sessionId}?session=${sessionId}`,
      sessionWebhookExpiredTime: input.webhookExpiresAt ?? createAt + 90 * 60_000,
      ...(msgtype === 'text' ? { text: { content: input.text ?? 'hello' } } : {}),
      ...(input.content ? { content: input.content } : {}),
    };
  }

  /** Every webhook issued so far answers errcode 300001 from now on. */
  expireWebhooks(): void {
    for (const s of this.sessions.values()) s.expired = true;
  }

  repliesTo(conversationId: string): RecordedReply[] {
    return this.replies.filter((r) => r.conversationId === conversationId);
  }

  private webhook(req: FakeRequest): FakeResponse {
    const session = this.sessions.get(req.params.id ?? '');
    if (!session || session.expired || req.query.get('session') !== req.params.id) {
      return { status: 200, body: { errcode: 300001, errmsg: 'session 不存在' } };
    }
    const body = req.body;
    if (body?.msgtype !== 'markdown' || typeof body.markdown?.text !== 'string') {
      return { status: 200, body: { errcode: 40035, errmsg: '缺少参数 markdown' } };
    }
    if (Buffer.byteLength(req.rawBody) > 20_000) {
      return { status: 200, body: { errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' } };
    }
    this.replies.push({
      via: 'webhook',
      conversationId: session.conversationId,
      text: body.markdown.text,
      title: body.markdown.title,
      atUserIds: body.at?.atUserIds ?? [],
      seq: nextSeq(),
    });
    return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  }

  private openApi(req: FakeRequest, via: 'group-send' | 'oto-send'): FakeResponse {
    const denied = this.options.checkAuth?.(req);
    if (denied) return denied;
    const body = req.body ?? {};
    if (body.robotCode !== (this.options.robotCode ?? 'ding-fake-app-key') || body.msgKey !== 'sampleMarkdown') {
      return { status: 400, body: { code: 'InvalidParameter', message: 'robotCode or msgKey invalid' } };
    }
    if (via === 'oto-send' && (!Array.isArray(body.userIds) || body.userIds.length === 0)) {
      // Nobody to send to: refused after the permission check (code is our guess), nothing sent.
      return { status: 400, body: { code: 'InvalidParameter', message: 'userIds is empty' } };
    }
    if (Buffer.byteLength(String(body.msgParam)) > 15_000) {
      return { status: 400, body: { code: 'InvalidParameter', message: 'msgParam too long' } };
    }
    const param = JSON.parse(String(body.msgParam)) as { title: string; text: string };
    this.replies.push({
      via,
      conversationId: via === 'group-send' ? body.openConversationId : `oto:${(body.userIds ?? []).join(',')}`,
      text: param.text,
      title: param.title,
      atUserIds: [],
      userIds: body.userIds,
      seq: nextSeq(),
    });
    return via === 'group-send'
      ? { status: 200, body: { processQueryKey: randomUUID() } }
      : { status: 200, body: { processQueryKey: randomUUID(), invalidStaffIdList: [], flowControlledStaffIdList: [] } };
  }
}
