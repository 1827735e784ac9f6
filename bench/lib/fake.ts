import type { RecordedAck } from '../../test/fakes/fake-stream-gateway.js';
import type { RecordedReply } from '../../test/fakes/fake-robot-api.js';
import { startFakeDingTalk, type FakeDingTalk } from '../../test/fakes/fake-dingtalk.js';
import { type BenchModel, type InstalledBenchModel, installBenchModel } from './bench-models.js';
import { withoutLabel } from '../../test/helpers/ai-label.js';

/** Upstream calls by endpoint family, as the issue names them. */
export interface CallCounts {
  token: number;
  thread: number;
  message: number;
  run: number;
  poll: number;
  list: number;
  /** Replies posted to a sessionWebhook (chat answers), not an assistant call. */
  webhook: number;
}

export const CALL_KINDS = ['token', 'thread', 'message', 'run', 'poll', 'list'] as const;

/**
 * The test suite's fake DingTalk with high-resolution clocks: the time each frame was pushed,
 * acked and answered (performance.now(), all in this process, so no clock skew), and waiters
 * that resolve the moment a reply or an ack is recorded instead of polling.
 */
export interface BenchFake {
  readonly fake: FakeDingTalk;
  /** The model service the bridge asks instead of the DingTalk assistant, when one was chosen. */
  readonly model?: InstalledBenchModel;
  /** Pushes a text message from `conversationId` (a DM unless `group`); returns the frame id. */
  push(conversationId: string, text: string, options?: { group?: boolean; staffId?: string }): string;
  /** performance.now() of the push of frame `messageId`. */
  pushedAt(messageId: string): number | undefined;
  /** Resolves with performance.now() of the ack of `messageId` (bounded by `timeoutMs`). */
  ack(messageId: string, timeoutMs?: number): Promise<number>;
  /** Resolves with performance.now() of the reply `text` in `conversationId`. */
  reply(conversationId: string, text: string, timeoutMs?: number): Promise<number>;
  /** Every reply so far, in arrival order, with its time. */
  readonly replies: Array<{ conversationId: string; text: string; at: number }>;
  counts(): CallCounts;
  /** Forgets recorded requests, acks and replies (memory stays flat over long runs). */
  trim(): void;
  close(): Promise<void>;
}

export async function startBenchFake(runDurationMs: number, modelKind?: BenchModel): Promise<BenchFake> {
  const fake = await startFakeDingTalk({ assistant: { runDurationMs } });
  const model = modelKind ? installBenchModel(fake, modelKind, runDurationMs) : undefined;
  const pushed = new Map<string, number>();
  const acked = new Map<string, number>();
  const ackWaiters = new Map<string, (at: number) => void>();
  const replyWaiters = new Map<string, (at: number) => void>();
  const replies: BenchFake['replies'] = [];
  let webhook = 0;

  patchPush(fake.gateway.acks, (a: RecordedAck) => {
    const at = performance.now();
    acked.set(a.messageId, at);
    ackWaiters.get(a.messageId)?.(at);
  });
  patchPush(fake.robot.replies, (r: RecordedReply) => {
    const at = performance.now();
    webhook++;
    // Answers carry the AI label (and in groups an @ after it): waiters name the model's text.
    const text = withoutLabel(r.text);
    replies.push({ conversationId: r.conversationId, text, at });
    replyWaiters.get(replyKey(r.conversationId, text))?.(at);
  });

  const wait = <K>(map: Map<K, (at: number) => void>, key: K, known: number | undefined, timeoutMs: number, what: string) =>
    known !== undefined
      ? Promise.resolve(known)
      : new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            map.delete(key);
            reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
          }, timeoutMs);
          map.set(key, (at) => {
            clearTimeout(timer);
            map.delete(key);
            resolve(at);
          });
        });

  return {
    fake,
    model,
    replies,
    push(conversationId, text, options = {}) {
      const payload = fake.robot.robotMessage({ conversationId, group: options.group, staffId: options.staffId ?? `u-${conversationId}`, text });
      const id = fake.gateway.push(payload);
      pushed.set(id, performance.now());
      return id;
    },
    pushedAt: (id) => pushed.get(id),
    ack: (id, timeoutMs = 10_000) => wait(ackWaiters, id, acked.get(id), timeoutMs, `the ack of ${id}`),
    reply(conversationId, text, timeoutMs = 30_000) {
      const done = replies.find((r) => r.conversationId === conversationId && r.text === text);
      return wait(replyWaiters, replyKey(conversationId, text), done?.at, timeoutMs, `the reply "${text}" in ${conversationId}`);
    },
    counts: () => countCalls(fake, webhook),
    trim() {
      fake.server.requests.length = 0;
      fake.gateway.acks.length = 0;
      fake.robot.replies.length = 0;
      replies.length = 0;
      pushed.clear();
      acked.clear();
    },
    close: () => fake.close(),
  };
}

/** The answer the fake assistant gives to `question`. */
export function answerTo(question: string): string {
  return `答：${question}`;
}

export function diffCounts(after: CallCounts, before: CallCounts): CallCounts {
  const out = { ...after };
  for (const k of Object.keys(out) as Array<keyof CallCounts>) out[k] = after[k] - before[k];
  return out;
}

function countCalls(fake: FakeDingTalk, webhook: number): CallCounts {
  const c = fake.assistant.calls;
  return {
    token: fake.tokens.calls,
    thread: c.createThread + c.retrieveThread,
    message: c.addMessage,
    run: c.createRun,
    poll: c.retrieveRun,
    list: c.listMessages + c.listRuns,
    webhook,
  };
}

function replyKey(conversationId: string, text: string): string {
  return `${conversationId}\n${text}`;
}

/** Calls `after` for every item pushed onto `list` (the fakes record into plain arrays). */
function patchPush<T>(list: T[], after: (item: T) => void): void {
  const original = list.push.bind(list);
  list.push = (...items: T[]) => {
    const n = original(...items);
    for (const item of items) after(item);
    return n;
  };
}
