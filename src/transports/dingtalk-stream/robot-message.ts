import type { ChatContent, ChatMessage } from '../../chat/chat-message.js';
import type { RobotReplyTarget } from '../../dingtalk/robot-reply-target.js';

/** The fields of a robot callback (`data` of topic /v1.0/im/bot/messages/get) we read. */
interface RobotPayload {
  msgId?: unknown;
  msgtype?: unknown;
  createAt?: unknown;
  conversationType?: unknown;
  conversationId?: unknown;
  conversationTitle?: unknown;
  senderId?: unknown;
  senderStaffId?: unknown;
  senderNick?: unknown;
  isAdmin?: unknown;
  sessionWebhook?: unknown;
  sessionWebhookExpiredTime?: unknown;
  text?: { content?: unknown };
  content?: { recognition?: unknown; richText?: unknown };
}

export type RobotParseResult =
  | { readonly ok: true; readonly message: ChatMessage }
  | { readonly ok: false; readonly reason: string };

/** When the frame carrying the message arrived (our clock) and was sent (DingTalk's clock, header `time`). */
export interface FrameTiming {
  readonly receivedAt: number;
  readonly deliveredAt?: number;
}

/**
 * Turns the robot callback's `data` (a JSON string inside the frame) into our ChatMessage.
 * Never throws: a payload we cannot use gives a reason for the log. `frameMessageId` is the
 * dedupe id when the payload has no msgId.
 */
export function parseRobotMessage(data: string, frameMessageId: string, timing: FrameTiming = { receivedAt: Date.now() }): RobotParseResult {
  const now = timing.receivedAt;
  let p: RobotPayload;
  try {
    p = JSON.parse(data) as RobotPayload;
  } catch {
    return { ok: false, reason: 'data is not JSON' };
  }
  if (typeof p !== 'object' || p === null) return { ok: false, reason: 'data is not an object' };
  const conversationId = str(p.conversationId);
  const senderId = str(p.senderStaffId) ?? str(p.senderId);
  const kind = p.conversationType === '1' ? 'direct' : p.conversationType === '2' ? 'group' : undefined;
  if (!conversationId || !senderId || !kind) {
    return { ok: false, reason: 'conversationId, conversationType or sender missing' };
  }
  const replyTarget: RobotReplyTarget = {
    webhook: str(p.sessionWebhook),
    webhookExpiresAt: num(p.sessionWebhookExpiredTime),
    conversationType: kind,
    conversationId,
    staffId: str(p.senderStaffId),
  };
  return {
    ok: true,
    message: {
      id: str(p.msgId) ?? frameMessageId,
      conversation: { kind, id: conversationId, title: str(p.conversationTitle) },
      sender: { id: senderId, name: str(p.senderNick), ...(isTrue(p.isAdmin) && { isAdmin: true }) },
      createdAt: num(p.createAt) ?? timing.deliveredAt ?? now,
      ...(timing.deliveredAt !== undefined && { deliveredAt: timing.deliveredAt, receivedAt: timing.receivedAt }),
      content: readContent(p, kind === 'group'),
      replyTarget,
    },
  };
}

function readContent(p: RobotPayload, inGroup: boolean): ChatContent {
  const type = str(p.msgtype) ?? 'unknown';
  switch (type) {
    case 'text':
      // In groups DingTalk removes the @bot but leaves the whitespace before the question.
      return { kind: 'text', text: (str(p.text?.content) ?? '').replace(/^\s+/, '') };
    case 'richText': {
      const text = richText(p.content?.richText, inGroup);
      // Only pictures (and the @): say pictures are not supported rather than "type a question".
      return text.trim() === '' && hasPicture(p.content?.richText) ? { kind: 'unsupported', type: 'picture' } : { kind: 'text', text };
    }
    case 'audio':
      return { kind: 'text', text: str(p.content?.recognition) ?? '', fromVoice: true };
    default:
      return { kind: 'unsupported', type };
  }
}

/** Joins the text parts; in groups the first part is "@BotName", which is not the question. */
function richText(parts: unknown, inGroup: boolean): string {
  if (!Array.isArray(parts)) return '';
  const text = parts
    .map((part) => str((part as { text?: unknown } | null)?.text))
    .filter((t): t is string => t !== undefined)
    .join('');
  const trimmed = text.replace(/^\s+/, '');
  return inGroup ? trimmed.replace(/^@\S+/, '').replace(/^\s+/, '') : trimmed;
}

function hasPicture(parts: unknown): boolean {
  return Array.isArray(parts) && parts.some((part) => (part as { type?: unknown } | null)?.type === 'picture');
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** DingTalk sends `isAdmin` as a JSON boolean; accept the string form too. */
function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}
