import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ChatRoom, RoomMessage } from '../chat/chat-room.js';
import type { Person } from '../chat/demo-cast.js';
import type { SimTokens } from './sim-tokens.js';
import { objectBody, sendDingError, type SimCredentials, type WireLog } from './sim-replies.js';

export interface RobotApiDeps {
  readonly room: ChatRoom;
  readonly tokens: SimTokens;
  readonly credentials: SimCredentials;
  readonly wire: WireLog;
  /** `http://host:port` of the simulator, for the session webhooks it hands out. */
  readonly baseUrl: () => string;
}

/** A sessionWebhook lives 90 minutes after the message (DingTalk: createAt + 5,400,000 ms). */
const WEBHOOK_LIFE_MS = 90 * 60_000;
const WEBHOOK_MAX_BYTES = 20_000;
const MSG_PARAM_MAX_BYTES = 15_000;
const MESSAGE_KEYS = new Set(['sampleMarkdown', 'sampleText']);

/**
 * The robot's ways to speak: the per-message sessionWebhook (no token; markdown or text, errcode
 * 300001 once expired) and the OpenAPI sends (`groupMessages/send`, `oToMessages/batchSend`, with
 * a token). Whatever arrives is shown in the chat it was sent to.
 */
export class SimRobotApi {
  private readonly sessions = new Map<string, { conversationId: string; expiresAt: number }>();

  constructor(private readonly deps: RobotApiDeps) {}

  register(app: FastifyInstance): void {
    app.post('/robot/sendBySession', async (req) => {
      const session = String((req.query as { session?: unknown }).session ?? '');
      return this.webhook(session, req.body, Number(req.headers['content-length'] ?? 0));
    });
    app.post('/v1.0/robot/groupMessages/send', async (req, reply) => {
      if (this.deps.tokens.refused(req, reply)) return reply;
      return this.groupSend(objectBody(req.body), reply);
    });
    app.post('/v1.0/robot/oToMessages/batchSend', async (req, reply) => {
      if (this.deps.tokens.refused(req, reply)) return reply;
      return this.directSend(objectBody(req.body), reply);
    });
  }

  /** The robot callback DingTalk would push for a person's message (the Stream frame's data). */
  callbackFor(message: RoomMessage, sender: Person, content: string): Record<string, unknown> {
    const { room, credentials, baseUrl } = this.deps;
    const conversation = room.conversation(message.conversationId)!;
    const session = randomUUID().replace(/-/g, '');
    const expiresAt = message.createdAt + WEBHOOK_LIFE_MS;
    this.forgetExpiredSessions();
    this.sessions.set(session, { conversationId: conversation.id, expiresAt });
    const group = conversation.kind === 'group';
    return {
      msgId: `msgDEMO${message.id.slice(2).replace(/-/g, '')}==`,
      msgtype: 'text',
      text: { content },
      createAt: message.createdAt,
      conversationType: group ? '2' : '1',
      conversationId: conversation.id,
      ...(group ? { conversationTitle: conversation.title } : {}),
      senderId: `$:LWCP_v1:$${Buffer.from(sender.id).toString('base64')}`,
      senderStaffId: sender.id,
      senderNick: sender.name,
      senderCorpId: 'dingDEMOcorp',
      isAdmin: sender.role === 'teacher',
      chatbotUserId: room.cast.bot.userId,
      chatbotCorpId: 'dingDEMOcorp',
      robotCode: credentials.appKey,
      isInAtList: true,
      ...(group ? { atUsers: [{ dingtalkId: room.cast.bot.userId }] } : {}),
      sessionWebhook: `${baseUrl()}/robot/sendBySession?session=${session}`,
      sessionWebhookExpiredTime: expiresAt,
    };
  }

  private webhook(session: string, rawBody: unknown, bytes: number): { errcode: number; errmsg: string } {
    const target = this.sessions.get(session);
    if (!target || Date.now() > target.expiresAt) {
      this.deps.wire('webhook', 'sessionWebhook refused: session expired or unknown (errcode 300001)');
      return { errcode: 300001, errmsg: 'session 不存在' };
    }
    if (bytes > WEBHOOK_MAX_BYTES) {
      return { errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' };
    }
    const body = objectBody(rawBody);
    const text = body.msgtype === 'markdown' ? body.markdown?.text : body.msgtype === 'text' ? body.text?.content : undefined;
    if (typeof text !== 'string' || text === '') {
      return { errcode: 40035, errmsg: '缺少参数 markdown/text' };
    }
    const atUserIds = Array.isArray(body.at?.atUserIds) ? body.at.atUserIds.filter((x: unknown) => typeof x === 'string') : [];
    this.deps.room.addBotMessage({ conversationId: target.conversationId, text, via: 'webhook', title: body.markdown?.title, atUserIds });
    this.deps.wire('webhook', `sessionWebhook ${body.msgtype} reply (${Array.from(text).length} chars)`);
    return { errcode: 0, errmsg: 'ok' };
  }

  private forgetExpiredSessions(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now > s.expiresAt) this.sessions.delete(id);
  }

  private groupSend(body: Record<string, any>, reply: FastifyReply) {
    const param = this.messageParam(body, reply);
    if (!param) return reply;
    const conversation = this.deps.room.conversation(String(body.openConversationId ?? ''));
    if (conversation?.kind !== 'group') return sendDingError(reply, 400, 'invalidParameter', 'openConversationId 不存在');
    this.deps.room.addBotMessage({ conversationId: conversation.id, text: param.text, via: 'group-send', title: param.title });
    this.deps.wire('openapi', 'robot groupMessages/send');
    return { processQueryKey: randomUUID() };
  }

  private directSend(body: Record<string, any>, reply: FastifyReply) {
    const param = this.messageParam(body, reply);
    if (!param) return reply;
    const userIds: unknown[] = Array.isArray(body.userIds) ? body.userIds : [];
    if (userIds.length === 0 || userIds.length > 20) return sendDingError(reply, 400, 'invalidParameter', 'userIds 须为 1–20 个');
    const invalidStaffIdList: string[] = [];
    for (const id of userIds) {
      const conversation = this.deps.room.directOf(String(id));
      if (!conversation) invalidStaffIdList.push(String(id));
      else this.deps.room.addBotMessage({ conversationId: conversation.id, text: param.text, via: 'oto-send', title: param.title });
    }
    this.deps.wire('openapi', `robot oToMessages/batchSend to ${userIds.length - invalidStaffIdList.length} user(s)`);
    return { processQueryKey: randomUUID(), invalidStaffIdList, flowControlledStaffIdList: [] };
  }

  /** The message of an OpenAPI send, or undefined after sending DingTalk's 400. */
  private messageParam(body: Record<string, any>, reply: FastifyReply): { title?: string; text: string } | undefined {
    if (body.robotCode !== this.deps.credentials.appKey) {
      sendDingError(reply, 400, 'invalidParameter', 'robotCode 无效');
      return undefined;
    }
    if (!MESSAGE_KEYS.has(body.msgKey) || typeof body.msgParam !== 'string') {
      sendDingError(reply, 400, 'invalidParameter', 'msgKey 或 msgParam 无效（演示支持 sampleMarkdown、sampleText）');
      return undefined;
    }
    if (Buffer.byteLength(body.msgParam) > MSG_PARAM_MAX_BYTES) {
      sendDingError(reply, 400, 'invalidParameter', 'msgParam too long');
      return undefined;
    }
    const param = objectBody(safeJson(body.msgParam));
    const text = body.msgKey === 'sampleText' ? param.content : param.text;
    if (typeof text !== 'string' || text === '') {
      sendDingError(reply, 400, 'invalidParameter', 'msgParam 缺少内容');
      return undefined;
    }
    return { title: typeof param.title === 'string' ? param.title : undefined, text };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
