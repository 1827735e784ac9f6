import { afterEach, describe, expect, it } from 'vitest';
import { CHAT_TEXTS } from '../../src/chat/chat-texts.js';
import { parseRobotMessage } from '../../src/transports/dingtalk-stream/robot-message.js';
import { AssistantError } from '../../src/errors.js';
import { sleep } from '../fakes/fake-http-server.js';
import { startStreamHarness, waitFor, type HarnessOptions, type StreamHarness } from '../helpers/stream-harness.js';
import { withLabel } from '../helpers/ai-label.js';

const open: StreamHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function harness(options?: HarnessOptions): Promise<StreamHarness> {
  const h = await startStreamHarness(options);
  open.push(h);
  return h;
}

const replyCount = (h: StreamHarness, n: number) => waitFor(() => h.robot.replies.length >= n, 10_000, `${n} replies`);

describe('Stream transport: receive, ack, answer', () => {
  it('acks a message at once and answers it through the sessionWebhook', async () => {
    const h = await harness();
    h.backend.delayMs = 200;
    const messageId = h.gateway.push(h.robot.robotMessage({ conversationId: 'cidDM1', text: 'What is inertia?' }));
    await replyCount(h, 1);
    const ack = h.gateway.ackFor(messageId);
    expect(ack).toMatchObject({ code: 200, data: JSON.stringify({ response: null }) });
    const reply = h.robot.replies[0]!;
    expect(ack!.seq).toBeLessThan(reply.seq);
    expect(reply).toMatchObject({ via: 'webhook', conversationId: 'cidDM1', atUserIds: [] });
    expect(reply.text).toBe(withLabel('answer 1: What is inertia?'));
    expect(h.backend.calls.filter((c) => c.op === 'ask').map((c) => c.text)).toEqual(['What is inertia?']);
  });

  it('answers a redelivered message once, also after a restart', async () => {
    const h = await harness();
    const payload = h.robot.robotMessage({ conversationId: 'cidDM2', text: 'once please' });
    const first = h.gateway.push(payload);
    await replyCount(h, 1);
    h.gateway.redeliver(first);
    const second = h.gateway.push(payload); // same msgId, new frame id
    await waitFor(() => h.gateway.acks.filter((a) => a.messageId === first).length === 2);
    await waitFor(() => h.gateway.ackFor(second) !== undefined);
    await h.restart();
    const third = h.gateway.push(payload);
    await waitFor(() => h.gateway.ackFor(third) !== undefined);
    await sleep(300);
    expect(h.robot.replies).toHaveLength(1);
    expect(h.backend.count('ask')).toBe(1);
  });

  it('replies in a group with an @ of the sender, and in a DM without', async () => {
    const h = await harness();
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidG1', group: true, staffId: 'stu42', text: ' 什么是动量？' }));
    await replyCount(h, 1);
    const reply = h.robot.replies[0]!;
    expect(reply.atUserIds).toEqual(['stu42']);
    expect(reply.text).toContain('@stu42');
    expect(reply.text).toContain('什么是动量？');
    expect(h.backend.calls.find((c) => c.op === 'ask')?.text).toBe('什么是动量？');
  });

  it('keeps group members apart by default and shares one thread with GROUP_SESSION_SCOPE=group', async () => {
    const member = await harness();
    member.gateway.push(member.robot.robotMessage({ conversationId: 'cidG2', group: true, staffId: 'a', text: 'q1' }));
    await replyCount(member, 1);
    member.gateway.push(member.robot.robotMessage({ conversationId: 'cidG2', group: true, staffId: 'b', text: 'q2' }));
    await replyCount(member, 2);
    expect(member.backend.count('createThread')).toBe(2);

    const shared = await harness({ env: { GROUP_SESSION_SCOPE: 'group' } });
    shared.gateway.push(shared.robot.robotMessage({ conversationId: 'cidG3', group: true, staffId: 'a', text: 'q1' }));
    await replyCount(shared, 1);
    shared.gateway.push(shared.robot.robotMessage({ conversationId: 'cidG3', group: true, staffId: 'b', text: 'q2' }));
    await replyCount(shared, 2);
    expect(shared.backend.count('createThread')).toBe(1);
    expect(shared.robot.replies[1]!.text).toBe(`${withLabel('answer 2: q2')}\n\n@b`);
  });

  it('handles /new, 新对话, /help and 帮助 without asking the assistant', async () => {
    const h = await harness();
    const send = (text: string) => h.gateway.push(h.robot.robotMessage({ conversationId: 'cidDM3', text }));
    send('first');
    await replyCount(h, 1);
    send(' /new ');
    await replyCount(h, 2);
    expect(h.robot.replies[1]!.text).toBe(CHAT_TEXTS.newConversation);
    send('second');
    await replyCount(h, 3);
    expect(h.robot.replies[2]!.text).toBe(withLabel('answer 1: second')); // a new thread
    send('新对话');
    send('/HELP');
    send('帮助');
    await replyCount(h, 6);
    expect(h.robot.replies.slice(3).map((r) => r.text)).toEqual([CHAT_TEXTS.newConversation, CHAT_TEXTS.help, CHAT_TEXTS.help]);
    expect(h.backend.count('ask')).toBe(2);
    expect(h.backend.count('createThread')).toBe(2);
  });

  it('reads richText and audio, and politely refuses pictures, files, videos and unknown types', async () => {
    const h = await harness();
    const push = (msgtype: string, content: object, group = false) =>
      h.gateway.push(h.robot.robotMessage({ conversationId: `cid-${msgtype}`, group, msgtype, content }));
    push('richText', { richText: [{ text: '@PhysicsBot ' }, { text: 'explain ' }, { type: 'picture', downloadCode: 'x' }, { text: 'this' }] }, true);
    push('audio', { recognition: '今天有作业吗', downloadCode: 'y', duration: 3 });
    for (const t of ['picture', 'file', 'video', 'unknownMsgType']) push(t, { downloadCode: 'z' });
    await replyCount(h, 6);
    expect(h.backend.calls.filter((c) => c.op === 'ask').map((c) => c.text).sort()).toEqual(['explain this', '今天有作业吗']);
    for (const t of ['picture', 'file', 'video', 'unknownMsgType']) {
      expect(h.robot.repliesTo(`cid-${t}`).map((r) => r.text)).toEqual([CHAT_TEXTS.unsupported]);
    }
  });

  it('answers an empty mention with a hint and a too-long question with the limit', async () => {
    const h = await harness();
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidE', group: true, text: '   ' }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidL', text: 'x'.repeat(2001) }));
    await replyCount(h, 2);
    expect(h.robot.repliesTo('cidE')[0]!.text).toContain(CHAT_TEXTS.emptyQuestion);
    expect(h.robot.repliesTo('cidL')[0]!.text).toContain('2000');
    expect(h.backend.count('ask')).toBe(0);
  });

  it('tells the sender the limit for a 10,000-character message, refuses a mention-only richText, and passes emoji and mixed scripts verbatim', async () => {
    const h = await harness();
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidHuge', text: '长'.repeat(5_000) + 'x'.repeat(5_000) }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidAt', group: true, msgtype: 'richText', content: { richText: [{ text: '@PhysicsBot ' }] } }));
    const mixed = '光合作用 😀👩‍🔬 Ньютон مرحبا x² ✔ 三角形の内角';
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidMix', text: mixed }));
    await replyCount(h, 3);
    expect(h.robot.repliesTo('cidHuge').map((r) => r.text)).toEqual([expect.stringContaining('2000')]);
    expect(h.robot.repliesTo('cidAt')[0]!.text).toContain(CHAT_TEXTS.emptyQuestion);
    expect(h.robot.repliesTo('cidMix').map((r) => r.text)).toEqual([withLabel(`answer 1: ${mixed}`)]);
    expect(h.backend.calls.filter((c) => c.op === 'ask').map((c) => c.text)).toEqual([mixed]);
  });

  it('waits for run slots in a burst across conversations: all answered, never more than MAX_CONCURRENT_RUNS at once', async () => {
    const h = await harness({ env: { MAX_CONCURRENT_RUNS: '2', CHAT_QUEUE_LIMIT: '10' } });
    h.backend.delayMs = 100;
    for (let i = 0; i < 24; i++) h.gateway.push(h.robot.robotMessage({ conversationId: `cidBurst${i % 6}`, staffId: `s${i % 6}`, text: `q${i}` }));
    await replyCount(h, 24);
    expect(h.backend.maxConcurrent).toBe(2);
    for (let c = 0; c < 6; c++) {
      expect(h.robot.repliesTo(`cidBurst${c}`).map((r) => r.text)).toEqual([0, 1, 2, 3].map((n) => withLabel(`answer ${n + 1}: q${n * 6 + c}`)));
    }
  });

  it('after a restart, sends an answer a killed process had recorded, without asking again', async () => {
    const h = await harness();
    const parsed = parseRobotMessage(JSON.stringify(h.robot.robotMessage({ conversationId: 'cidRec', text: 'asked before the crash' })), 'f1');
    if (!parsed.ok) throw new Error(parsed.reason);
    await h.storage.ledger.admit({ id: parsed.message.id, admittedAt: Date.now(), payload: parsed.message });
    await h.storage.ledger.update(parsed.message.id, { reply: 'the answer recorded before the crash' });
    await h.restart();
    await replyCount(h, 1);
    expect(h.robot.replies.map((r) => r.text)).toEqual(['the answer recorded before the crash']);
    expect(h.backend.count('ask')).toBe(0);
    await waitFor(async () => (await h.storage.ledger.pending()).length === 0);
  });

  it('drops a ledger-recovered message older than MESSAGE_MAX_AGE_MINUTES with a log line instead of answering late', async () => {
    const h = await harness({ env: { MESSAGE_MAX_AGE_MINUTES: '10' } });
    const old = h.robot.robotMessage({ conversationId: 'cidOldRec', text: 'from before the outage', createAt: Date.now() - 11 * 60_000 });
    const parsed = parseRobotMessage(JSON.stringify(old), 'f2');
    if (!parsed.ok) throw new Error(parsed.reason);
    await h.storage.ledger.admit({ id: parsed.message.id, admittedAt: Date.now() - 11 * 60_000, payload: parsed.message });
    await h.restart();
    await waitFor(async () => (await h.storage.ledger.pending()).length === 0, 5_000, 'the stale message completed');
    await sleep(200);
    expect(h.robot.replies).toHaveLength(0);
    expect(h.backend.count('ask')).toBe(0);
    const dropped = h.logs.records().filter((r) => r.message === 'dropping a chat message too old to answer');
    expect(dropped).toEqual([expect.objectContaining({ msgId: parsed.message.id })]);
  });

  it('falls back to the robot OpenAPI when the webhook expired (group and DM)', async () => {
    const h = await harness();
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidG4', group: true, staffId: 's1', text: 'late', webhookExpiresAt: Date.now() - 1 }));
    await replyCount(h, 1);
    const dm = h.robot.robotMessage({ conversationId: 'cidDM4', staffId: 's2', text: 'dm' });
    h.robot.expireWebhooks(); // errcode 300001 although the expiry time has not passed
    h.gateway.push(dm);
    await replyCount(h, 2);
    expect(h.robot.replies[0]).toMatchObject({ via: 'group-send', conversationId: 'cidG4', text: withLabel('answer 1: late') });
    expect(h.robot.replies[1]).toMatchObject({ via: 'oto-send', userIds: ['s2'], text: withLabel('answer 1: dm') });
    expect(h.tokens.calls).toBeGreaterThan(0);
  });

  it('splits a long answer into ordered parts without losing text', async () => {
    const h = await harness();
    const paragraphs = Array.from({ length: 12 }, (_, i) => `第${i}段：${'物理'.repeat(400)}。`);
    h.backend.answer = () => paragraphs.join('\n\n');
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidG5', group: true, staffId: 's9', text: 'long' }));
    await waitFor(() => h.robot.replies.length >= 3);
    await sleep(300);
    const parts = h.robot.replies;
    const n = parts.length;
    parts.forEach((p, i) => {
      expect(p.text.length).toBeLessThan(3500);
      expect(p.text).toContain(`(${i + 1}/${n})`);
    });
    expect(parts[0]!.atUserIds).toEqual(['s9']);
    const body = parts.map((p) => p.text.replace(/\n\n\(\d+\/\d+\)( @s9)?$/, '')).join('\n\n');
    expect(body).toBe(withLabel(paragraphs.join('\n\n')));
  });

  it('keeps parts of an emoji- and quote-heavy answer under the byte limits, by webhook and by OpenAPI', async () => {
    const h = await harness();
    const answer = Array.from({ length: 40 }, (_, i) => `"引用${i}" 😀\\ `.repeat(60)).join('\n');
    h.backend.answer = () => answer;
    const lastPartOf = (id: string) => () => h.robot.repliesTo(id).some((r) => /\((\d+)\/\1\)$/.test(r.text));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidW', text: 'q' }));
    await waitFor(lastPartOf('cidW'));
    const late = h.robot.robotMessage({ conversationId: 'cidO', group: true, staffId: 's3', text: 'q' });
    h.robot.expireWebhooks();
    h.gateway.push(late);
    await waitFor(lastPartOf('cidO'));
    for (const id of ['cidW', 'cidO']) {
      const parts = h.robot.repliesTo(id);
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.every((p) => p.via === (id === 'cidW' ? 'webhook' : 'group-send'))).toBe(true);
      const joined = parts.map((p) => p.text.replace(/\n\n\(\d+\/\d+\)$/, '')).join('');
      expect(joined.replace(/\s/g, '')).toBe(withLabel(answer).replace(/\s/g, ''));
    }
  });

  it('drops stale messages, refuses groups and users not allowed, and slows down a flooding sender', async () => {
    const h = await harness({ env: { ALLOWED_GROUPS: 'cidYes', USER_RATE_LIMIT: '2/minute', MESSAGE_MAX_AGE_MINUTES: '1' } });
    const stale = h.gateway.push(h.robot.robotMessage({ conversationId: 'cidOld', text: 'old', createAt: Date.now() - 120_000 }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidNo', group: true, staffId: 'x1', text: 'hi' }));
    await replyCount(h, 1);
    expect(h.gateway.ackFor(stale)).toBeDefined();
    expect(h.robot.replies[0]).toMatchObject({ conversationId: 'cidNo', text: `${CHAT_TEXTS.notEnabled}\n\n@x1` });
    for (const q of ['1', '2', '3', '4']) h.gateway.push(h.robot.robotMessage({ conversationId: 'cidYes', group: true, staffId: 'x2', text: q }));
    await replyCount(h, 4);
    await sleep(300);
    // The refusal goes out at once (the message never queues), so it may come before the answers.
    const texts = h.robot.repliesTo('cidYes').map((r) => r.text.split('\n\n@')[0]);
    expect(texts.filter((t) => t !== CHAT_TEXTS.slowDown)).toEqual([withLabel('answer 1: 1'), withLabel('answer 2: 2')]);
    expect(texts.filter((t) => t === CHAT_TEXTS.slowDown)).toHaveLength(1);
    expect(h.robot.repliesTo('cidOld')).toHaveLength(0);
    expect(await h.storage.ledger.pending()).toHaveLength(0);
  });

  it('with ALLOWED_USERS, answers only the listed users, in DMs and groups alike', async () => {
    const h = await harness({ env: { ALLOWED_USERS: 'teacher1, teacher2' } });
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidU1', staffId: 'stu9', text: 'let me in' }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidU2', group: true, staffId: 'stu9', text: 'me too' }));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidU3', staffId: 'teacher2', text: 'hello' }));
    await replyCount(h, 3);
    expect(h.robot.repliesTo('cidU1').map((r) => r.text)).toEqual([CHAT_TEXTS.notEnabled]);
    expect(h.robot.repliesTo('cidU2').map((r) => r.text)).toEqual([`${CHAT_TEXTS.notEnabled}\n\n@stu9`]);
    expect(h.robot.repliesTo('cidU3').map((r) => r.text)).toEqual([withLabel('answer 1: hello')]);
    expect(h.backend.calls.filter((c) => c.op === 'ask').map((c) => c.text)).toEqual(['hello']);
  });

  it('answers one conversation in order while other conversations run in parallel', async () => {
    const h = await harness();
    h.backend.delayMs = 300;
    for (const q of ['a1', 'a2', 'a3']) h.gateway.push(h.robot.robotMessage({ conversationId: 'cidA', text: q }));
    for (const q of ['b1', 'c1']) h.gateway.push(h.robot.robotMessage({ conversationId: `cid-${q}`, text: q }));
    await replyCount(h, 5);
    expect(h.robot.repliesTo('cidA').map((r) => r.text)).toEqual([withLabel('answer 1: a1'), withLabel('answer 2: a2'), withLabel('answer 3: a3')]);
    expect(h.backend.maxConcurrent).toBeGreaterThanOrEqual(2);
  });

  it('replies busy when a conversation queue is full', async () => {
    const h = await harness({ env: { CHAT_QUEUE_LIMIT: '1' } });
    h.backend.delayMs = 500;
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidB', text: 'q1' }));
    await waitFor(() => h.backend.count('ask') === 1);
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidB', text: 'q2' }));
    await replyCount(h, 2);
    expect(h.robot.replies.map((r) => r.text)).toEqual([CHAT_TEXTS.busy, withLabel('answer 1: q1')]);
  });

  it('sends a thinking notice before a slow answer, and a friendly sentence on failure', async () => {
    const h = await harness({ env: { THINKING_NOTICE_SECONDS: '1' } });
    h.backend.delayMs = 1_600;
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidT', text: 'slow' }));
    await replyCount(h, 2);
    expect(h.robot.replies.map((r) => r.text)).toEqual([CHAT_TEXTS.thinking, withLabel('answer 1: slow')]);
    h.backend.delayMs = 0;
    h.backend.failures.push(new AssistantError('rate_limited', 'QpsLimit secret-detail'));
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidT', text: 'again' }));
    await replyCount(h, 3);
    expect(h.robot.replies[2]!.text).toBe(CHAT_TEXTS.rateLimited);
    expect(h.logs.lines.some((l) => l.includes('QpsLimit secret-detail'))).toBe(true);
  });
});

describe('Stream transport: connection trouble', () => {
  it('survives malformed frames and answers the next message', async () => {
    const h = await harness();
    h.gateway.sendRaw('not json at all');
    h.gateway.sendRaw(JSON.stringify({ type: 'CALLBACK', headers: { messageId: 'm-bad1', topic: '/v1.0/im/bot/messages/get' }, data: '{oops' }));
    h.gateway.sendRaw(JSON.stringify({ type: 'CALLBACK', headers: { messageId: 'm-bad2', topic: '/v1.0/im/bot/messages/get' }, data: '{}' }));
    h.gateway.sendRaw(JSON.stringify({ type: 'CALLBACK', headers: {} }));
    h.gateway.sendRaw(JSON.stringify({ type: 'CALLBACK', headers: { messageId: 'm-bad3', topic: '/v1.0/im/bot/messages/get' } }));
    h.gateway.sendRaw('null');
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidOK', text: 'still there?' }));
    await replyCount(h, 1);
    expect(h.robot.replies[0]!.text).toBe(withLabel('answer 1: still there?'));
    expect(h.gateway.ackFor('m-bad1')).toBeDefined(); // acked so it is not redelivered forever
    expect(h.transport.status().reconnects).toBe(0);
  });

  it('echoes SYSTEM pings with the same messageId and data', async () => {
    const h = await harness();
    h.gateway.sendPing();
    h.gateway.sendPing();
    await waitFor(() => h.gateway.pingEchoes.length === 2);
    expect(h.gateway.pingEchoes.every((e) => e.ok)).toBe(true);
  });

  it('reconnects with a new ticket after the socket drops, and after a disconnect frame', async () => {
    const h = await harness();
    h.gateway.dropSocket();
    await waitFor(() => h.gateway.connections === 2 && h.transport.status().state === 'connected');
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidR', text: 'after drop' }));
    await replyCount(h, 1);
    h.gateway.sendDisconnect();
    await waitFor(() => h.gateway.connections === 3 && h.gateway.socketCount === 1, 10_000, 'make-before-break');
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidR', text: 'after disconnect' }));
    await replyCount(h, 2);
    expect(h.transport.status().reconnects).toBe(2);
    expect(h.gateway.rejectedTickets).toBe(0);
  });

  it('finishes an in-flight answer on stop within the grace, and leaves a cancelled one pending for the next process', async () => {
    const h = await harness();
    h.backend.delayMs = 300;
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidS1', text: 'quick' }));
    await waitFor(() => h.backend.count('ask') === 1);
    await h.transport.stop();
    expect(h.robot.replies.map((r) => r.text)).toEqual([withLabel('answer 1: quick')]);
    expect(h.transport.status().state).toBe('stopped');

    await h.restart();
    h.backend.hangNext = 1;
    h.gateway.push(h.robot.robotMessage({ conversationId: 'cidS2', text: 'hangs' }));
    await waitFor(() => h.backend.count('ask') === 2);
    const started = Date.now();
    await h.transport.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await h.storage.ledger.pending()).toHaveLength(1);
    h.backend.finishAll();
    await h.restart(); // the pending question is answered by the new process
    await replyCount(h, 2);
    expect(h.robot.repliesTo('cidS2')).toHaveLength(1);
    await waitFor(async () => (await h.storage.ledger.pending()).length === 0);
  });

  it('stays disabled with STREAM_ENABLED=false', async () => {
    const h = await harness({ env: { STREAM_ENABLED: 'false' } });
    expect(h.transport.status().state).toBe('disabled');
    expect(h.server.count('POST', '/v1.0/gateway/connections/open')).toBe(0);
  });
});
