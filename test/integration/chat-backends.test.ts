import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { withLabel } from '../helpers/ai-label.js';
import { BACKEND_FIXTURES } from '../helpers/backend-fixtures.js';
import { startStreamHarness, type StreamHarness, waitFor } from '../helpers/stream-harness.js';

/**
 * Issue 8, "Done when", through the chat bot: with each real backend (configured as in
 * production, against its wire fake), a DM and group members keep separate histories and
 * `/new` starts over.
 */
const open: StreamHarness[] = [];

/** A reply as DingTalk shows it: the answer with the AI label, then the @mention in groups. */
const shown = (answer: string, mention = '') => `${withLabel(answer)}${mention}`;
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

describe.each(BACKEND_FIXTURES)('the chat bot with backend $name', (fixture) => {
  it('keeps a DM and each group member apart, and /new starts over', async () => {
    const h = await startStreamHarness({ model: fixture });
    open.push(h);
    let sent = 0;
    const say = async (text: string, where: { conversationId: string; group?: boolean; staffId: string }) => {
      h.gateway.push(h.robot.robotMessage({ ...where, text: where.group ? ` ${text}` : text }));
      sent++;
      await waitFor(() => h.robot.replies.length === sent, 10_000, `the reply to ${text}`);
      return h.robot.replies.at(-1)!.text;
    };
    const dm = { conversationId: 'cidDM', staffId: 'stu1' };
    const ann = { conversationId: 'cidClass', group: true, staffId: 'ann' };
    const ben = { conversationId: 'cidClass', group: true, staffId: 'ben' };
    expect(await say('dm one', dm)).toBe(shown('答：dm one（之前0轮）', ''));
    expect(await say('ann one', ann)).toBe(shown('答：ann one（之前0轮）', '\n\n@ann'));
    expect(await say('ben one', ben)).toBe(shown('答：ben one（之前0轮）', '\n\n@ben'));
    expect(await say('dm two', dm)).toBe(shown('答：dm two（之前1轮）', ''));
    expect(await say('ann two', ann)).toBe(shown('答：ann two（之前1轮）', '\n\n@ann'));
    expect(await say('/new', dm)).toBe(CHAT_TEXTS.newConversation);
    expect(await say('dm three', dm)).toBe(shown('答：dm three（之前0轮）', ''));
    expect(await say('ann three', ann)).toBe(shown('答：ann three（之前2轮）', '\n\n@ann'));
    // Each question reached the model once (the DingTalk fake lists them by thread, not by time).
    const asked = ['dm one', 'ann one', 'ben one', 'dm two', 'ann two', 'dm three', 'ann three'];
    expect(h.model!.questionsReceived().sort()).toEqual(asked.sort());
  });
});
