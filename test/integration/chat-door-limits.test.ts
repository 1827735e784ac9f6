import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { DEFAULT_AI_LABEL } from '../../src/config/policy-env.js';
import type { AuditRecord } from '../../src/storage/audit-trail.js';
import { sleep } from '../fakes/fake-http-server.js';
import { withLabel } from '../helpers/ai-label.js';
import { startStreamHarness, waitFor, type HarnessOptions, type StreamHarness } from '../helpers/stream-harness.js';
import { StreamingBackend } from '../helpers/streaming-backend.js';
import { DINGTALK_ASSISTANT_FIXTURE } from '../helpers/backend-fixtures.js';


/** Issue 13, the chat door: items 7, 8, 11, 12, 13 and the chat half of 14, through the real app. */
const open: StreamHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function harness(options?: HarnessOptions): Promise<StreamHarness> {
  const h = await startStreamHarness(options);
  open.push(h);
  return h;
}

const idle = (h: StreamHarness) => waitFor(async () => (await h.storage.ledger.pending()).length === 0, 10_000, 'every message completed');

async function auditOutcomes(h: StreamHarness): Promise<Record<string, number>> {
  await h.storage.policy.audit.flush();
  const counts: Record<string, number> = {};
  for await (const row of h.storage.policy.audit.between(0, Number.MAX_SAFE_INTEGER)) {
    const outcome = (row as AuditRecord).outcome;
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  return counts;
}

describe('item 7: quiet refusals', () => {
  it('one student sending 40 messages at once makes the bot post exactly 6 messages into the group', async () => {
    // Defaults: USER_RATE_LIMIT=20/minute, CONVERSATION_QUEUE_LIMIT=5, CHAT_REFUSAL_NOTICE_SECONDS=60.
    const h = await harness();
    h.backend.delayMs = 150;
    const ids: string[] = [];
    for (let i = 1; i <= 40; i++) {
      ids.push(h.gateway.push(h.robot.robotMessage({ conversationId: 'cidFlood', group: true, staffId: 'stu7', text: `q${i}` })));
    }
    await waitFor(() => ids.every((id) => h.gateway.isAcked(id)), 10_000, 'all 40 acked');
    await idle(h);
    await sleep(300); // nothing more trickles in
    const posts = h.robot.repliesTo('cidFlood').map((r) => r.text.replace(/\n\n@stu7$/, ''));
    // 5 answers (the conversation's line: 1 running + 4 waiting) and one refusal; the other 34 are silent.
    expect(posts).toHaveLength(6);
    const answers = posts.filter((t) => t.startsWith('answer'));
    expect(answers).toEqual([1, 2, 3, 4, 5].map((n) => withLabel(`answer ${n}: q${n}`)));
    expect(posts.filter((t) => t === CHAT_TEXTS.busy || t === CHAT_TEXTS.slowDown)).toHaveLength(1);
    // The rate limit applies before the line: only the first 20 messages ever tried to queue.
    expect(h.logs.records().filter((r) => r.message === 'conversation queue full')).toHaveLength(15);
    // Every message is still recorded and completed, and audited with its outcome.
    await waitFor(async () => Object.values(await auditOutcomes(h)).reduce((a, b) => a + b, 0) === 40, 5_000, '40 audit records');
    expect(await auditOutcomes(h)).toEqual({ answered: 5, busy: 15, limited: 20 });
  });

  it('says "not enabled" once per sender and conversation per window, to each sender', async () => {
    const h = await harness({ env: { ALLOWED_GROUPS: 'cidOther', CHAT_REFUSAL_NOTICE_SECONDS: '60' } });
    for (const staffId of ['a', 'a', 'a', 'b', 'b']) {
      h.gateway.push(h.robot.robotMessage({ conversationId: 'cidClosed', group: true, staffId, text: 'hi' }));
    }
    await idle(h);
    await sleep(200);
    expect(h.robot.repliesTo('cidClosed').map((r) => r.text).sort()).toEqual([`${CHAT_TEXTS.notEnabled}\n\n@a`, `${CHAT_TEXTS.notEnabled}\n\n@b`]);
  });
});

describe('item 8: thinking notices in groups', () => {
  it('sends at most one notice per group per window, however many slow answers', async () => {
    const h = await harness({ env: { THINKING_NOTICE_SECONDS: '1' } });
    h.backend.delayMs = 3_600; // past the notice (1 s) and its group grace (2 s)
    for (const staffId of ['ann', 'ben', 'cat']) {
      h.gateway.push(h.robot.robotMessage({ conversationId: 'cidSlow', group: true, staffId, text: `q-${staffId}` }));
    }
    await waitFor(() => h.robot.repliesTo('cidSlow').length >= 4, 10_000, 'three answers');
    await idle(h);
    const texts = h.robot.repliesTo('cidSlow').map((r) => r.text.split('\n\n@')[0] ?? '');
    expect(texts.filter((t) => t === CHAT_TEXTS.thinking)).toHaveLength(1);
    expect(texts.filter((t) => t.startsWith('answer'))).toHaveLength(3);
  });

  it('skips the notice when a group answer arrives within the grace after it was due', async () => {
    const h = await harness({ env: { THINKING_NOTICE_SECONDS: '1' } });
    h.backend.delayMs = 2_000; // due at 1 s, but the answer comes before 1 s + 2 s grace
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidClose', group: true, staffId: 'dan', text: 'q' }));
    await waitFor(() => h.robot.repliesTo('cidClose').length >= 1);
    await idle(h);
    expect(h.robot.repliesTo('cidClose').map((r) => r.text)).toEqual([`${withLabel('answer 1: q')}\n\n@dan`]);
  });

  it('skips a group notice when the model is already writing the answer (text streaming in); a DM still gets one', async () => {
    const backend = new StreamingBackend(() => ({ chunks: ['Photosynthesis ', 'makes ', 'sugar ', 'and ', 'oxygen', '.', '.'], chunkMs: 550 }));
    const h = await harness({ env: { THINKING_NOTICE_SECONDS: '1' }, backend: () => backend });
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidStreamG', group: true, staffId: 'eve', text: 'what does photosynthesis make?' }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidStreamDM', staffId: 'fay', text: 'and in a DM?' }));
    await waitFor(() => h.robot.repliesTo('cidStreamG').length >= 1 && h.robot.repliesTo('cidStreamDM').length >= 2, 10_000);
    await idle(h);
    // The answers took 3.85 s (past the notice and its group grace), but text arrived from 0.55 s on.
    expect(h.robot.repliesTo('cidStreamG').map((r) => r.text)).toEqual([`${withLabel('Photosynthesis makes sugar and oxygen..')}\n\n@eve`]);
    expect(h.robot.repliesTo('cidStreamDM').map((r) => r.text)).toEqual([CHAT_TEXTS.thinking, withLabel('Photosynthesis makes sugar and oxygen..')]);
  });
});

describe('item 9: answer size', () => {
  it('a 200,000-character answer is cut at ANSWER_MAX_CHARS and sent as at most ANSWER_MAX_PARTS messages, the AI label last', async () => {
    const h = await harness({ model: DINGTALK_ASSISTANT_FIXTURE, env: { ANSWER_MAX_CHARS: '30000', ANSWER_MAX_PARTS: '5' } });
    h.fake.assistant.answer = () => '答'.repeat(200_000);
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidLong', group: true, staffId: 'stu9', text: 'write forever' }));
    await waitFor(() => h.robot.repliesTo('cidLong').some((r) => r.text.includes('(5/5)')), 15_000, 'the last part');
    await idle(h);
    const parts = h.robot.repliesTo('cidLong').map((r) => r.text);
    expect(parts).toHaveLength(5);
    parts.forEach((p, i) => expect(p).toContain(`(${i + 1}/5)`));
    const last = parts.at(-1)!;
    expect(last).toContain(CHAT_TEXTS.answerPartsCut);
    expect(last.endsWith(`${CHAT_TEXTS.answerPartsCut}\n\n${DEFAULT_AI_LABEL}\n\n(5/5)`)).toBe(true);
    expect(parts.join('').match(/答/g)!.length).toBeLessThanOrEqual(30_000);
  });
});

describe('item 11: reply targets', () => {
  it('never calls a sessionWebhook outside DINGTALK_WEBHOOK_ORIGINS and answers through the robot OpenAPI', async () => {
    const h = await harness({ env: { DINGTALK_WEBHOOK_ORIGINS: 'https://oapi.dingtalk.com' } });
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidGroupO', group: true, staffId: 's1', text: 'g' }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidDmO', staffId: 's2', text: 'd' }));
    await waitFor(() => h.robot.replies.length >= 2);
    await idle(h);
    expect(h.server.count('POST', /^\/robot\/sendBySession\//)).toBe(0);
    expect(h.robot.replies.map((r) => r.via).sort()).toEqual(['group-send', 'oto-send']);
    expect(h.robot.repliesTo('cidGroupO')[0]!.text).toBe(withLabel('answer 1: g'));
    const warned = h.logs.records().filter((r) => String(r.message).startsWith('sessionWebhook not on an allowed origin'));
    expect(warned.map((r) => r.origin)).toEqual([h.server.baseUrl, h.server.baseUrl]);
  });
});

describe('item 12: clock skew', () => {
  it("judges a message's age by DingTalk's clock, logs a wrong server clock at error, and /healthz shows the skew", async () => {
    const h = await harness({ env: { MESSAGE_MAX_AGE_MINUTES: '10' } });
    const minute = 60_000;
    // Our clock is 20 minutes ahead of DingTalk's: a message DingTalk sent a second ago looks 20 minutes old to us.
    const dingtalkNow = Date.now() - 20 * minute;
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidFast', text: 'fresh', createAt: dingtalkNow - 1_000 }), undefined, { time: dingtalkNow });
    await waitFor(() => h.robot.repliesTo('cidFast').length === 1);
    expect(h.robot.repliesTo('cidFast')[0]!.text).toBe(withLabel('answer 1: fresh'));
    const clockLine = h.logs.records().find((r) => String(r.message).startsWith('the server clock looks wrong'));
    expect(clockLine).toMatchObject({ level: 'error' });
    expect(Number(clockLine!.clockSkewMs)).toBeGreaterThan(19 * minute);
    expect(String(clockLine!.message)).toMatch(/it is 1[12]\d\d s ahead of DingTalk's/);
    const health = (await (await fetch(`${h.app.url}/healthz`)).json()) as { stream: { clockSkewMs: number } };
    expect(health.stream.clockSkewMs).toBeGreaterThan(19 * minute);
    expect(health.stream.clockSkewMs).toBeLessThan(21 * minute);
  });

  it('drops a message that is old by DingTalk\'s clock although ours says it is new, with the skew in the log', async () => {
    const h = await harness({ env: { MESSAGE_MAX_AGE_MINUTES: '10' } });
    const minute = 60_000;
    // Our clock is 20 minutes behind: DingTalk delivers now a message sent 15 minutes ago by its clock.
    const dingtalkNow = Date.now() + 20 * minute;
    const id = h.gateway.push(h.robot.robotMessage({ conversationId: 'cidSlowClock', text: 'stale', createAt: dingtalkNow - 15 * minute }), undefined, {
      time: dingtalkNow,
    });
    await waitFor(() => h.gateway.isAcked(id));
    await idle(h);
    await sleep(200);
    expect(h.robot.repliesTo('cidSlowClock')).toHaveLength(0);
    expect(h.backend.count('ask')).toBe(0);
    const dropped = h.logs.records().find((r) => r.message === 'dropping a chat message too old to answer');
    expect(Number(dropped!.ageMs)).toBeGreaterThanOrEqual(15 * minute);
    expect(Number(dropped!.serverClockAgeMs)).toBeLessThan(0);
    const clockLine = h.logs.records().find((r) => String(r.message).startsWith('the server clock looks wrong'));
    expect(clockLine).toMatchObject({ level: 'error', droppingAsTooOld: true });
    expect(String(clockLine!.message)).toMatch(/behind DingTalk's/);
  });
});

describe('item 13: a DM reply with no staff id and an expired webhook', () => {
  it('is kept and delivered, first, with the reply to the user\'s next message', async () => {
    const h = await harness();
    const external = (text: string, webhookExpiresAt?: number) => {
      const payload: Record<string, unknown> = h.robot.robotMessage({ conversationId: 'cidExt', staffId: 'x', text, webhookExpiresAt });
      delete payload.senderStaffId; // DingTalk sends no staff id for some users
      payload.senderId = '$:LWCP_v1:$external-user';
      return payload;
    };
    h.gateway.push(external('first question', Date.now() - 1_000));
    await waitFor(() => h.logs.records().some((r) => String(r.message).startsWith('reply held until the user writes again')));
    await idle(h);
    expect(h.robot.replies).toHaveLength(0);
    expect(h.logs.records().some((r) => r.message === 'reply could not be delivered')).toBe(false);
    h.gateway.push(external('second question'));
    await waitFor(() => h.robot.replies.length >= 2);
    await idle(h);
    expect(h.robot.replies.map((r) => [r.via, r.text])).toEqual([
      ['webhook', `${CHAT_TEXTS.heldReplyIntro}\n\n${withLabel('answer 1: first question')}`],
      ['webhook', withLabel('answer 2: second question')],
    ]);
  });
});

describe('item 14 (chat): a message the ledger cannot record', () => {
  it('is not acked, so DingTalk delivers it again, and is answered once when storage is back', async () => {
    const h = await harness({ gateway: { redeliverUnackedAfterMs: 400, maxRedeliveries: 10 } });
    const db = h.storage.ledger as unknown as { connection: { run(what: string, sql: string): Promise<number> } };
    await db.connection.run('test: the ledger refuses writes', 'PRAGMA query_only = ON');
    const id = h.gateway.push(h.robot.robotMessage({ conversationId: 'cidDisk', text: 'are you there?' }));
    await waitFor(() => h.gateway.autoRedelivered.has(id), 5_000, 'a redelivery');
    await sleep(500); // a second redelivery, still unrecorded
    expect(h.gateway.isAcked(id)).toBe(false);
    // The user hears once (not once per redelivery) that the assistant is unavailable.
    expect(h.robot.replies.map((r) => r.text)).toEqual([CHAT_TEXTS.unavailable]);
    expect(h.backend.count('ask')).toBe(0);
    expect(h.logs.records().some((r) => r.level === 'error' && String(r.message).startsWith('could not record a chat message'))).toBe(true);
    await db.connection.run('test: the ledger takes writes again', 'PRAGMA query_only = OFF');
    await waitFor(() => h.gateway.isAcked(id), 5_000, 'the ack after recovery');
    await waitFor(() => h.robot.replies.length === 2);
    await sleep(600); // a redelivery that was already on its way is dropped as a duplicate
    expect(h.robot.replies.map((r) => r.text)).toEqual([CHAT_TEXTS.unavailable, withLabel('answer 1: are you there?')]);
    expect(h.backend.count('ask')).toBe(1);
  });
});
