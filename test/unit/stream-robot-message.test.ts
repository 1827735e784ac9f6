import { describe, expect, it } from 'vitest';
import { parseRobotMessage } from '../../src/transports/dingtalk-stream/robot-message.js';

const base = {
  msgId: 'msgABC==',
  createAt: 1707286661313,
  conversationType: '2',
  conversationId: 'cid123',
  conversationTitle: 'G10',
  senderId: '$:LWCP_v1:$abc',
  senderStaffId: 'staff1',
  senderNick: 'Li Lei',
  sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=x',
  sessionWebhookExpiredTime: 1707292061544,
};
const parse = (extra: object) => parseRobotMessage(JSON.stringify({ ...base, ...extra }), 'frame-1');

describe('parseRobotMessage', () => {
  it('maps a group text message into our words', () => {
    const r = parse({ msgtype: 'text', text: { content: ' 什么是力？ ' } });
    expect(r).toEqual({
      ok: true,
      message: {
        id: 'msgABC==',
        conversation: { kind: 'group', id: 'cid123', title: 'G10' },
        sender: { id: 'staff1', name: 'Li Lei' },
        createdAt: 1707286661313,
        content: { kind: 'text', text: '什么是力？ ' },
        replyTarget: {
          webhook: base.sessionWebhook,
          webhookExpiresAt: 1707292061544,
          conversationType: 'group',
          conversationId: 'cid123',
          staffId: 'staff1',
        },
      },
    });
  });

  it('falls back to senderId and the frame id, and accepts times as strings', () => {
    const r = parseRobotMessage(
      JSON.stringify({ ...base, msgId: undefined, senderStaffId: undefined, conversationType: '1', createAt: '1707286661313', msgtype: 'text', text: { content: 'hi' } }),
      'frame-9',
    );
    expect(r.ok && r.message.id).toBe('frame-9');
    expect(r.ok && r.message.sender.id).toBe('$:LWCP_v1:$abc');
    expect(r.ok && r.message.conversation.kind).toBe('direct');
    expect(r.ok && r.message.createdAt).toBe(1707286661313);
  });

  it('reads richText without the @BotName, audio recognition, and marks other types unsupported', () => {
    const rich = parse({ msgtype: 'richText', content: { richText: [{ text: '@物理助手' }, { text: ' 解释\n' }, { type: 'picture', downloadCode: 'd' }, { text: '这个' }] } });
    expect(rich.ok && rich.message.content).toEqual({ kind: 'text', text: '解释\n这个' });
    const onlyPicture = parse({ msgtype: 'richText', content: { richText: [{ text: '@物理助手 ' }, { type: 'picture', downloadCode: 'd' }] } });
    expect(onlyPicture.ok && onlyPicture.message.content).toEqual({ kind: 'unsupported', type: 'picture' });
    const audio = parse({ msgtype: 'audio', content: { recognition: '明天考试吗', duration: 2 } });
    expect(audio.ok && audio.message.content).toEqual({ kind: 'text', text: '明天考试吗', fromVoice: true });
    for (const t of ['picture', 'file', 'video', 'unknownMsgType', 'markdown']) {
      const r = parse({ msgtype: t, content: { downloadCode: 'd' } });
      expect(r.ok && r.message.content).toEqual({ kind: 'unsupported', type: t });
    }
  });

  it('refuses what it cannot use, without throwing', () => {
    expect(parseRobotMessage('{not json', 'f').ok).toBe(false);
    expect(parseRobotMessage('null', 'f').ok).toBe(false);
    expect(parseRobotMessage('"text"', 'f').ok).toBe(false);
    expect(parse({ conversationId: undefined }).ok).toBe(false);
    expect(parse({ conversationType: '3' }).ok).toBe(false);
    expect(parse({ senderId: undefined, senderStaffId: undefined }).ok).toBe(false);
  });

  it('reads isAdmin into the sender (TEACHERS_FROM_ADMINS), as a boolean or its string form', () => {
    const sender = (extra: object) => {
      const r = parse({ msgtype: 'text', text: { content: 'q' }, ...extra });
      return r.ok ? r.message.sender : undefined;
    };
    expect(sender({ isAdmin: true })).toEqual({ id: 'staff1', name: 'Li Lei', isAdmin: true });
    expect(sender({ isAdmin: 'true' })?.isAdmin).toBe(true);
    expect(sender({ isAdmin: false })).toEqual({ id: 'staff1', name: 'Li Lei' });
    expect(sender({})).toEqual({ id: 'staff1', name: 'Li Lei' });
  });
});
