import { describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open-storage.js';
import { startFakeDingTalk, type FakeDingTalk } from '../fakes/fake-dingtalk.js';
import { sleep } from '../fakes/fake-http-server.js';
import { captureLogger } from '../helpers/capture-logs.js';
import { fakeDingTalkEnv, type ServiceProcess, spawnService, tempStorageUrl } from '../helpers/service-process.js';
import { waitFor } from '../helpers/stream-harness.js';

/**
 * Issue 4, "Done when": 300 chat messages over the Stream fake, into the whole service as a
 * child process, with dropped sockets, a disconnect frame, duplicate deliveries, upstream 5xx,
 * throttling, lost responses, a revoked token and one SIGKILL mid-run (restarted on the same
 * SQLite file). Every message must be answered exactly once, in order per conversation, and
 * every question must reach the assistant exactly once.
 */
const MESSAGES = 300;
const CONVERSATIONS = 30;
const PUSH_EVERY_MS = 35;
const SEED = 0x5eed_2026;
const REDELIVER_AFTER_MS = 1_500;
const FLAVOURS = ['光合作用是什么？', 'What is inertia? 😀', 'Закон Ньютона', 'مرحبا بالعالم', 'x² + y² = z² ✔', '三角形の内角'];

/** Deterministic randomness (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Chat {
  readonly conversationId: string;
  readonly group: boolean;
  readonly members: readonly string[];
}

interface Sent {
  readonly index: number;
  readonly msgId: string;
  readonly frameId: string;
  /** Conversation key as the bot sees it (group members have their own thread and lane). */
  readonly lane: string;
  readonly question: string;
  readonly payload: Record<string, unknown>;
}

const chats: Chat[] = Array.from({ length: CONVERSATIONS }, (_, c) =>
  c < 18
    ? { conversationId: `cidDM${c}`, group: false, members: [`stu${c}`] }
    : { conversationId: `cidGroup${c}`, group: true, members: [`stu${c}a`, `stu${c}b`] },
);

const tagOf = (text: string) => /\[(fi-\d+)\]/.exec(text)?.[1];

describe('Done when: fault injection over the Stream fake, whole process', () => {
  it('answers 300 messages exactly once through drops, duplicates, upstream faults and a kill -9', async () => {
    const random = seeded(SEED);
    const fake = await startFakeDingTalk({
      assistant: { runDurationMs: 150 },
      gateway: { redeliverUnackedAfterMs: REDELIVER_AFTER_MS, maxRedeliveries: 20 },
    });
    const storageUrl = tempStorageUrl();
    const env = fakeDingTalkEnv(fake, {
      DINGTALK_TIMEOUT_SECONDS: '5',
      SESSION_STORAGE: storageUrl,
      THINKING_NOTICE_SECONDS: '0',
      USER_RATE_LIMIT: '10000/minute',
      CHAT_QUEUE_LIMIT: '50',
      ANSWER_TIMEOUT_SECONDS: '20',
    });
    const processes: ServiceProcess[] = [];
    let restarting: Promise<void> | undefined;
    const sent: Sent[] = [];
    /** Messages whose frame came more than once by our doing or the gateway's (order not promised). */
    const resent = new Set<string>();
    let ackedButUnansweredAtKill = 0;
    try {
      processes.push(await spawnService(env));
      await waitFor(() => fake.gateway.socketCount === 1, 10_000, 'the first Stream connection');

      const faults: Record<number, () => void | Promise<void>> = {
        30: () => fake.assistant.failNext('addMessage', { status: 500, code: 'system.error', times: 2 }),
        45: () => fake.assistant.failNext('createRun', { status: 503, code: 'ServiceUnavailable', message: 'busy', times: 2 }),
        60: () => fake.gateway.dropSocket(),
        80: () =>
          fake.assistant.failNext('createRun', { status: 403, code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: 'qps', times: 2 }),
        95: () => fake.assistant.dropNextResponse('addMessage', 'reset', 2),
        110: async () => {
          // The socket dropped at 60 may still be reconnecting (backoff with jitter) on a busy machine.
          await waitFor(() => fake.gateway.socketCount >= 1, 10_000, 'a Stream connection for the disconnect frame');
          fake.gateway.sendDisconnect();
        },
        125: () => fake.tokens.revokeAll(),
        135: () => fake.assistant.dropNextResponse('createRun', 'reset', 1),
        150: () => {
          restarting = killAndRestart();
        },
        200: () => fake.assistant.failNext('retrieveRun', { status: 500, code: 'InternalError', times: 2 }),
        215: async () => {
          // After the kill at 150 the new process may still be starting on a loaded machine:
          // drop its socket once it has one, or this fault would silently not happen.
          await waitFor(() => fake.gateway.socketCount >= 1, 20_000, 'a Stream connection to drop');
          fake.gateway.dropSocket();
        },
        240: () => fake.assistant.failNext('addMessage', { status: 502, code: '', message: 'bad gateway', times: 1 }),
      };

      /** Replies held at the robot fake, kill -9 while answers are in flight, restart on the same file. */
      const killAndRestart = async () => {
        fake.robot.hold();
        await sleep(500); // replies delivered before the hold have been recorded in the ledger
        const replied = repliedIds(fake);
        ackedButUnansweredAtKill = sent.filter((s) => fake.gateway.isAcked(s.frameId) && !replied.has(s.msgId)).length;
        await processes.at(-1)!.stop('SIGKILL');
        processes.push(await spawnService(env));
        fake.robot.release();
      };

      for (let i = 0; i < MESSAGES; i++) {
        await faults[i]?.();
        const chat = chats[Math.floor(random() * chats.length)]!;
        const member = chat.members[Math.floor(random() * chat.members.length)]!;
        const msgId = `fi-${i}`;
        const question = `Q${i} [${msgId}] ${FLAVOURS[i % FLAVOURS.length]}`;
        const payload = fake.robot.robotMessage({
          conversationId: chat.conversationId,
          group: chat.group,
          staffId: member,
          msgId,
          text: chat.group ? ` ${question}` : question,
          createAt: Date.now(),
        });
        const frameId = fake.gateway.push(payload, `frame-${i}`);
        sent.push({ index: i, msgId, frameId, lane: `${chat.conversationId}/${member}`, question, payload });
        // Duplicates seconds later: the same frame again, and the same message in a new frame.
        if (i % 20 === 10 && i >= 50) {
          const early = sent[i - 45]!;
          resent.add(early.msgId);
          fake.gateway.redeliver(early.frameId);
        }
        if (i % 25 === 5 && i >= 70) {
          const early = sent[i - 60]!;
          resent.add(early.msgId);
          fake.gateway.push(early.payload, `frame-copy-${i}`);
        }
        await sleep(PUSH_EVERY_MS);
      }
      await restarting;

      // Every message answered...
      await waitFor(() => repliedIds(fake).size === MESSAGES, 40_000, 'an answer to every message');
      // ...then duplicates long after the answers (DingTalk redelivering minutes later).
      const late = Array.from({ length: 20 }, () => sent[Math.floor(random() * sent.length)]!);
      for (const s of late) fake.gateway.redeliver(s.frameId);
      for (const s of late.slice(0, 10)) fake.gateway.push(s.payload, `frame-late-${s.index}`);
      await waitFor(() => fake.gateway.unacked().length === 0, 15_000, 'every frame acked');
      await sleep(1_000);

      // Exactly one answer per message, and nothing else (no busy or failure sentences).
      const perMsg = new Map<string, number>();
      const untagged: string[] = [];
      for (const r of fake.robot.replies) {
        const tag = tagOf(r.text);
        if (tag) perMsg.set(tag, (perMsg.get(tag) ?? 0) + 1);
        else untagged.push(r.text);
      }
      expect(untagged).toEqual([]);
      const wrongCount = sent.filter((s) => perMsg.get(s.msgId) !== 1).map((s) => `${s.msgId}×${perMsg.get(s.msgId) ?? 0}`);
      expect(wrongCount).toEqual([]);
      for (const s of sent) {
        const reply = fake.robot.replies.find((r) => tagOf(r.text) === s.msgId)!;
        expect(reply.text.startsWith(`答：${s.question}`)).toBe(true);
      }

      // In send order per conversation, for every message the gateway delivered once, in order.
      for (const id of fake.gateway.autoRedelivered) {
        const s = sent.find((x) => x.frameId === id);
        if (s) resent.add(s.msgId);
      }
      const replySeq = new Map(fake.robot.replies.map((r) => [tagOf(r.text)!, r.seq]));
      const outOfOrder: string[] = [];
      for (const chat of chats) {
        for (const member of chat.members) {
          const lane = sent.filter((s) => s.lane === `${chat.conversationId}/${member}` && !resent.has(s.msgId));
          const seqs = lane.map((s) => replySeq.get(s.msgId)!);
          seqs.forEach((seq, k) => k > 0 && seq < seqs[k - 1]! && outOfOrder.push(`${lane[k - 1]!.msgId} after ${lane[k]!.msgId}`));
        }
      }
      expect(outOfOrder).toEqual([]);
      expect(sent.length - resent.size).toBeGreaterThan(MESSAGES * 0.6); // the order check covered most messages

      // Each question reached the assistant exactly once.
      const asked = new Map<string, number>();
      for (const threadId of fake.assistant.threads.keys()) {
        for (const text of fake.assistant.userMessages(threadId)) asked.set(text, (asked.get(text) ?? 0) + 1);
      }
      const notOnce = sent.filter((s) => asked.get(s.question) !== 1).map((s) => `${s.msgId}×${asked.get(s.question) ?? 0}`);
      expect(notOnce).toEqual([]);

      // The faults really happened.
      expect(processes).toHaveLength(2);
      expect(ackedButUnansweredAtKill).toBeGreaterThan(0);
      expect(fake.gateway.connections).toBeGreaterThanOrEqual(5);
      const logs = processes.flatMap((p) => p.stdout).join('\n');
      expect(logs).toContain('dingtalk call failed; retrying');
      expect(logs).toContain('resuming a chat message left unanswered');
      expect(logs).toContain('dropping a redelivered message');

      // Nothing left pending in the ledger after a graceful stop.
      expect(await processes.at(-1)!.stop('SIGTERM')).toBe(0);
      const { logger } = captureLogger();
      const storage = await openStorage({ url: storageUrl, ledgerTtlMs: 3_600_000, logger });
      try {
        expect(await storage.ledger.pending()).toEqual([]);
      } finally {
        await storage.close();
      }
    } finally {
      fake.robot.release();
      await Promise.all(processes.map((p) => p.stop('SIGKILL', 1_000)));
      await fake.close();
    }
  }, 90_000);
});

function repliedIds(fake: FakeDingTalk): Set<string> {
  const ids = new Set<string>();
  for (const r of fake.robot.replies) {
    const tag = tagOf(r.text);
    if (tag) ids.add(tag);
  }
  return ids;
}
