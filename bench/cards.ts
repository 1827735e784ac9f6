import { FAKE_CARD_TEMPLATE_ID } from '../test/fakes/fake-card-api.js';
import type { BenchFake } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import { type ScenarioResult, withService } from './lib/scenario.js';
import { ms, round, summarize, until } from './lib/stats.js';

export interface CardBenchOptions {
  /** Answers for the first-update latency, and how many run at once. */
  readonly latencyAnswers: number;
  readonly latencyParallel: number;
  /** T of the latency runs, and the deltas they stream in. */
  readonly latencyRunMs: number;
  /** T of the cost runs (the 10 s) and their deltas (a model writes every ~150 ms). */
  readonly costRunMs: number;
  readonly costDeltas: number;
  readonly costAnswers: number;
}

export const CARD_DEFAULTS: CardBenchOptions = {
  latencyAnswers: 20,
  latencyParallel: 4,
  latencyRunMs: 2_000,
  costRunMs: 10_000,
  costDeltas: 65,
  costAnswers: 5,
};

const CARD_ENV = { DINGTALK_REPLY_MODE: 'card', DINGTALK_CARD_TEMPLATE_ID: FAKE_CARD_TEMPLATE_ID, CARD_UPDATE_INTERVAL_MS: '1000' };
/** A typical answer of ~650 characters. */
const answerOf = (q: string) => `关于「${q}」：${'光合作用是植物利用光能，把二氧化碳和水转化为葡萄糖并释放氧气的过程。'.repeat(12)}\n\n总结：${q}。`;

/**
 * AI cards (issue 9): time from the backend's first token (the fake assistant writing its first
 * delta) to the first card update (the card fake receiving it), both by Date.now() in this
 * process; and DingTalk calls per answer at T = 10 s in markdown and card mode.
 */
export async function cards(o: CardBenchOptions = CARD_DEFAULTS): Promise<ScenarioResult> {
  const latency = await firstUpdateLatency(o);
  const cardCost = await callsPerAnswer(o, CARD_ENV);
  // Markdown with the default THINKING_NOTICE_SECONDS (5): the notice is part of the cost at T = 10 s.
  const markdownCost = await callsPerAnswer(o, { THINKING_NOTICE_SECONDS: '5' });
  const section = '8. AI cards (DINGTALK_REPLY_MODE=card, CARD_UPDATE_INTERVAL_MS=1000)';
  const perMonth = Math.floor(5_000 / cardCost.total);
  const rows: Row[] = [
    row(section, `first token → first card update p50 (n=${latency.n}, T = ${o.latencyRunMs} ms)`, ms(latency.p50), '≤ 300 ms', latency.p50 <= 300),
    row(section, 'first token → first card update p99', ms(latency.p99)),
    row(section, `DingTalk calls per answer, markdown mode, T = ${o.costRunMs / 1000} s (thinking notice at 5 s)`, describe(markdownCost)),
    row(section, `DingTalk calls per answer, card mode, T = ${o.costRunMs / 1000} s`, describe(cardCost)),
    row(section, 'card answers of T = 10 s per 5,000 calls (free edition, per month)', String(perMonth)),
  ];
  return { rows, details: { options: o, latency, cardCost, markdownCost } };
}

async function firstUpdateLatency(o: CardBenchOptions) {
  return withService(o.latencyRunMs, { ...CARD_ENV, ANSWER_TIMEOUT_SECONDS: '30' }, async (fake) => {
    fake.fake.assistant.deltaCount = 10;
    fake.fake.assistant.answer = answerOf;
    await answerAll(fake, ['warm-up'], 1); // compiles the card path
    const questions = Array.from({ length: o.latencyAnswers }, (_, i) => `latency ${i}`);
    await answerAll(fake, questions, o.latencyParallel);
    const samples = questions.map((q) => {
      const run = runOf(fake, q);
      const card = fake.fake.cards.cardsIn(staffOf(q))[0]!;
      const first = card.updates.find((u) => u.via === 'streaming');
      if (!run?.firstDeltaAt || !first) throw new Error(`no first delta or update for ${q}`);
      return first.at - run.firstDeltaAt;
    });
    return summarize(samples);
  });
}

interface Cost {
  readonly total: number;
  readonly byKind: Record<string, number>;
}

async function callsPerAnswer(o: CardBenchOptions, env: Record<string, string>): Promise<Cost> {
  return withService(o.costRunMs, { ...env, ANSWER_TIMEOUT_SECONDS: '30' }, async (fake) => {
    fake.fake.assistant.deltaCount = o.costDeltas;
    fake.fake.assistant.answer = answerOf;
    const before = countDingTalk(fake);
    const questions = Array.from({ length: o.costAnswers }, (_, i) => `cost ${i}`);
    await answerAll(fake, questions, o.costAnswers);
    const after = countDingTalk(fake);
    const byKind: Record<string, number> = {};
    for (const k of Object.keys(after)) {
      const perAnswer = round((after[k]! - (before[k] ?? 0)) / o.costAnswers, 2);
      if (perAnswer > 0) byKind[k] = perAnswer;
    }
    return { total: round(Object.values(byKind).reduce((a, b) => a + b, 0), 2), byKind };
  });
}

/** Pushes each question as a DM from its own user and waits (bounded) for its answer to be complete. */
async function answerAll(fake: BenchFake, questions: readonly string[], parallel: number): Promise<void> {
  const queue = [...questions];
  const worker = async () => {
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      const question = q;
      fake.push(`cid-${question}`, question, { staffId: staffOf(question) });
      await until(() => answered(fake, question), 40_000, `the answer to ${question}`, 5);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

function answered(fake: BenchFake, q: string): boolean {
  const card = fake.fake.cards.cardsIn(staffOf(q))[0];
  if (card) return card.state === 'finished' || card.state === 'failed';
  return fake.fake.robot.replies.some((r) => r.text.startsWith(answerOf(q).slice(0, 20)));
}

const staffOf = (q: string) => `stu-${q.replace(/\s+/g, '-')}`;

function runOf(fake: BenchFake, q: string) {
  for (const threadId of fake.fake.assistant.threads.keys()) {
    if (fake.fake.assistant.userMessages(threadId).includes(q)) return fake.fake.assistant.runsOf(threadId)[0];
  }
  return undefined;
}

/** DingTalk calls the quota counts, by family (the start-up permission probe excluded). */
function countDingTalk(fake: BenchFake): Record<string, number> {
  const reqs = fake.fake.server.requests;
  const probe = reqs.filter((r) => r.path === '/v1.0/card/streaming' && String(r.body?.outTrackId).startsWith('card_probe_')).length;
  return {
    send: reqs.filter((r) => r.path.startsWith('/robot/') || r.path.startsWith('/v1.0/robot/')).length,
    card_create: reqs.filter((r) => r.path === '/v1.0/card/instances/createAndDeliver').length,
    card_update: reqs.filter((r) => r.path === '/v1.0/card/streaming' || (r.path === '/v1.0/card/instances' && r.method === 'PUT')).length - probe,
  };
}

function describe(c: Cost): string {
  const parts = Object.entries(c.byKind).map(([k, v]) => `${k} ${v}`);
  return `${c.total} (${parts.join(', ')})`;
}

