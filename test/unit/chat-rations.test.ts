import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/chat/chat-message.js';
import { messageAge } from '../../src/chat/message-age.js';
import { RefusalNotices } from '../../src/chat/refusal-notices.js';
import { GROUP_NOTICE_GRACE_MS, ThinkingNoticeRation } from '../../src/chat/thinking-notice-ration.js';

const message = (conversation: string, sender: string, group = true, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `${conversation}-${sender}`,
  conversation: { kind: group ? 'group' : 'direct', id: conversation },
  sender: { id: sender },
  createdAt: 0,
  content: { kind: 'text', text: 'q' },
  replyTarget: {},
  ...extra,
});

describe('RefusalNotices (item 7)', () => {
  it('says a refusal once per sender and conversation per window', () => {
    const clock = { now: 0 };
    const notices = new RefusalNotices(60_000, () => clock.now);
    expect(notices.claim(message('g1', 'a'))).toBe(true);
    expect(notices.claim(message('g1', 'a'))).toBe(false);
    expect(notices.claim(message('g1', 'b'))).toBe(true); // another sender
    expect(notices.claim(message('g2', 'a'))).toBe(true); // another conversation
    clock.now = 60_001;
    expect(notices.claim(message('g1', 'a'))).toBe(true);
  });

  it('forgets pairs silent for a whole window, so memory stays bounded', () => {
    const clock = { now: 0 };
    const notices = new RefusalNotices(1_000, () => clock.now);
    for (let i = 0; i < 5_000; i++) notices.claim(message('g', `s${i}`));
    clock.now = 2_001;
    notices.claim(message('g', 'late'));
    expect(notices.tracked).toBe(1);
  });
});

describe('ThinkingNoticeRation (item 8)', () => {
  it('allows one notice per group per window and never limits direct chats', () => {
    const clock = { now: 0 };
    const ration = new ThinkingNoticeRation(30_000, () => clock.now);
    expect(ration.claim(message('g1', 'a'))).toBe(true);
    expect(ration.claim(message('g1', 'b'))).toBe(false);
    expect(ration.claim(message('g2', 'a'))).toBe(true);
    expect(ration.claim(message('dm1', 'a', false))).toBe(true);
    expect(ration.claim(message('dm1', 'a', false))).toBe(true);
    clock.now = 30_001;
    expect(ration.claim(message('g1', 'c'))).toBe(true);
    expect(ration.graceMs(message('g1', 'a'))).toBe(GROUP_NOTICE_GRACE_MS);
    expect(ration.graceMs(message('dm1', 'a', false))).toBe(0);
  });

  it('does not ration at THINKING_NOTICE_GROUP_SECONDS=0', () => {
    const ration = new ThinkingNoticeRation(0);
    expect([1, 2, 3].map(() => ration.claim(message('g1', 'a')))).toEqual([true, true, true]);
  });
});

describe('messageAge (item 12)', () => {
  it("is judged by the platform's clock when the delivery time is known", () => {
    // DingTalk sent it at 1_000 (its clock) a second after it was written; it arrived at 601_000 on ours.
    const m = message('d', 'a', false, { createdAt: 0, deliveredAt: 1_000, receivedAt: 601_000 });
    expect(messageAge(m, 611_000)).toEqual({ ageMs: 11_000, serverClockAgeMs: 611_000, clockSkewMs: 600_000 });
  });

  it('falls back to our clock for messages without a delivery time', () => {
    expect(messageAge(message('d', 'a', false, { createdAt: 5_000 }), 8_000)).toEqual({ ageMs: 3_000, serverClockAgeMs: 3_000 });
  });
});
