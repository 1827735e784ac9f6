import { AskClient } from './lib/ask-client.js';
import { answerTo, type BenchFake } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import { type Mode, modeEnv, modeLabel, runsForBurst, type ScenarioResult, withService } from './lib/scenario.js';
import { ms, summarize } from './lib/stats.js';

export interface ConcurrencyOptions {
  /** T for the many-conversations test (the issue: 1 s). */
  readonly runMs: number;
  readonly conversations: number;
  /** T for the one-conversation test (kept short: its wall time is messages × T). */
  readonly queueRunMs: number;
  readonly queuedMessages: number;
}

export const CONCURRENCY_DEFAULTS: ConcurrencyOptions = { runMs: 1_000, conversations: 200, queueRunMs: 200, queuedMessages: 20 };
/** A burst stops waiting after this long (bounds the suite when the service is slow). */
const BURST_LIMIT_MS = 6_000;

interface Burst {
  readonly wallMs: number;
  /** Latencies of the answers that arrived within BURST_LIMIT_MS. */
  readonly latencies: number[];
  readonly asked: number;
}

/**
 * 200 different conversations ask at once (HTTP, then chat; a first question, then a follow-up)
 * with T = 1 s: the wall time shows whether anyone waited behind someone else's run. Then 20
 * chat messages in one conversation: answered in order, one run at a time.
 */
export async function concurrency(
  mode: Mode,
  o: ConcurrencyOptions = CONCURRENCY_DEFAULTS,
  reference?: Record<string, number>,
): Promise<ScenarioResult> {
  const env = { ...modeEnv(mode), MAX_CONCURRENT_RUNS: runsForBurst(o.conversations), CONVERSATION_QUEUE_LIMIT: String(o.queuedMessages + 5) };
  const bursts = await withService(o.runMs, env, async (fake, svc) => {
    const client = new AskClient(svc.url, o.conversations);
    try {
      const httpFirst = await httpBurst(client, o.conversations, []);
      const httpAgain = await httpBurst(client, o.conversations, httpFirst.sessions);
      const chatFirst = await chatBurst(fake, o.conversations, 'first');
      const chatAgain = await chatBurst(fake, o.conversations, 'again');
      return { httpFirst, httpAgain, chatFirst, chatAgain };
    } finally {
      client.close();
    }
  }, { mode });
  const queue = await withService(o.queueRunMs, env, (fake) => oneConversation(fake, o.queuedMessages, o.queueRunMs), { mode });
  const rows = burstRows(mode, o, bursts, reference);
  rows.push(...queueRows(mode, o, queue));
  const details = Object.fromEntries(Object.entries(bursts).map(([k, b]) => [k, { wallMs: b.wallMs, latency: summarize(b.latencies) }]));
  return { rows, details: { ...details, oneConversation: queue } };
}

async function httpBurst(client: AskClient, n: number, sessions: string[]): Promise<Burst & { sessions: string[] }> {
  const started = performance.now();
  const replies = await Promise.all(
    Array.from({ length: n }, (_, i) => client.ask(`burst ${i}`, sessions[i], BURST_LIMIT_MS).catch(() => undefined)),
  );
  const ok = replies.filter((r) => r?.status === 200);
  const wallMs = ok.length === n ? performance.now() - started : Number.POSITIVE_INFINITY;
  return { wallMs, latencies: ok.map((r) => r!.ms), asked: n, sessions: replies.map((r) => r?.sessionId ?? '') };
}

async function chatBurst(fake: BenchFake, n: number, tag: string): Promise<Burst> {
  const started = performance.now();
  const sent = Array.from({ length: n }, (_, i) => ({ cid: `cid-burst-${i}`, text: `burst ${tag} ${i}`, at: 0 }));
  for (const s of sent) s.at = fake.pushedAt(fake.push(s.cid, s.text))!;
  const done = await Promise.all(sent.map((s) => fake.reply(s.cid, answerTo(s.text), BURST_LIMIT_MS).catch(() => undefined)));
  const latencies = done.flatMap((at, i) => (at === undefined ? [] : [at - sent[i]!.at]));
  const wallMs = latencies.length === n ? Math.max(...(done as number[])) - started : Number.POSITIVE_INFINITY;
  return { wallMs, latencies, asked: n };
}

interface QueueResult {
  readonly wallMs: number;
  readonly inOrder: boolean;
  readonly overlappingRuns: number;
  readonly answered: number;
}

async function oneConversation(fake: BenchFake, n: number, runMs: number): Promise<QueueResult> {
  const cid = 'cid-one-conversation';
  const texts = Array.from({ length: n }, (_, i) => `queued ${i + 1}`);
  const started = performance.now();
  for (const t of texts) fake.push(cid, t);
  const timeout = n * runMs * 3 + 10_000;
  await Promise.all(texts.map((t) => fake.reply(cid, answerTo(t), timeout)));
  const wallMs = performance.now() - started;
  const order = fake.replies.filter((r) => r.conversationId === cid).map((r) => r.text);
  const runs = upstreamRuns(fake, runMs);
  let overlappingRuns = 0;
  for (let i = 1; i < runs.length; i++) if (runs[i]!.createdAt < runs[i - 1]!.createdAt + runs[i - 1]!.durationMs) overlappingRuns++;
  return { wallMs, inOrder: order.join('\n') === texts.map(answerTo).join('\n'), overlappingRuns, answered: order.length };
}

/** The answers the model side started, in order: DingTalk runs, or requests to a model fake (each lasting T). */
function upstreamRuns(fake: BenchFake, runMs: number): Array<{ createdAt: number; durationMs: number }> {
  if (!fake.model) {
    return [...fake.fake.assistant.threads.values()].flatMap((t) => t.runs).sort((a, b) => a.createdAt - b.createdAt);
  }
  return fake.fake.server.requests
    .filter((r) => r.method === 'POST' && /\/(chat\/completions|chat-messages)$/.test(r.path))
    .map((r) => ({ createdAt: r.at, durationMs: runMs }));
}

function burstRows(mode: Mode, o: ConcurrencyOptions, b: Record<string, Burst>, reference?: Record<string, number>): Row[] {
  const section = `3. Concurrency, ${modeLabel(mode)}: ${o.conversations} conversations at once, T = ${o.runMs} ms`;
  const names: Record<string, string> = {
    httpFirst: '/assistant/ask, new conversations',
    httpAgain: '/assistant/ask, follow-ups',
    chatFirst: 'chat, new conversations',
    chatAgain: 'chat, follow-ups',
  };
  const rows: Row[] = [];
  for (const [key, burst] of Object.entries(b)) {
    const s = summarize(burst.latencies);
    const wall = Number.isFinite(burst.wallMs) ? ms(burst.wallMs) : `> ${BURST_LIMIT_MS} ms (${burst.latencies.length}/${burst.asked} answered)`;
    const threads = reference?.[key];
    if (threads !== undefined && Number.isFinite(threads)) {
      const ratio = burst.wallMs / threads;
      const target = '≤ 1.10 × the streaming DingTalk assistant';
      rows.push(row(section, `${names[key]}: wall time (× streaming assistant)`, `${wall} (${ratio.toFixed(2)}×)`, target, ratio <= 1.1));
    } else {
      rows.push(row(section, `${names[key]}: wall time`, wall, '< 1500 ms', burst.wallMs < 1500));
    }
    rows.push(row(section, `${names[key]}: latency p50 / max (answered)`, `${ms(s.p50)} / ${ms(s.max)}`));
  }
  return rows;
}

function queueRows(mode: Mode, o: ConcurrencyOptions, q: QueueResult): Row[] {
  const section = `3. Concurrency, ${modeLabel(mode)}: ${o.queuedMessages} messages in one conversation, T = ${o.queueRunMs} ms`;
  const perMessage = (q.wallMs - o.queuedMessages * o.queueRunMs) / o.queuedMessages;
  return [
    row(section, 'answered in order', `${q.inOrder ? 'yes' : 'NO'} (${q.answered}/${o.queuedMessages})`, 'yes', q.inOrder && q.answered === o.queuedMessages),
    row(section, 'runs overlapping an earlier run', String(q.overlappingRuns), '0', q.overlappingRuns === 0),
    row(section, 'wall time (overhead per message)', `${ms(q.wallMs)} (${ms(perMessage)})`),
  ];
}
