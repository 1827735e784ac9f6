import { AskClient, pool } from './lib/ask-client.js';
import { answerTo, type BenchFake } from './lib/fake.js';
import { fakeStreamRunMs } from './lib/fake-baseline.js';
import { row, type Row } from './lib/report.js';
import { type Mode, modeEnv, modeLabel, type ScenarioResult, withService } from './lib/scenario.js';
import type { BenchService } from './lib/service.js';
import { mean, ms, round, type Summary, summarize } from './lib/stats.js';

export interface OverheadOptions {
  /** The fake run's fixed duration T (ms). */
  readonly runMs: number;
  /** Follow-up questions measured per transport. */
  readonly samples: number;
  /** Conversations asking side by side (each one question at a time). */
  readonly parallel: number;
}

export const OVERHEAD_DEFAULTS: OverheadOptions = { runMs: 800, samples: 40, parallel: 5 };
/** The seed polled once a second: about 500 ms late on average. */
const SEED_AVERAGE_MS = 500;

/**
 * Overhead = answer latency − T for follow-up questions in existing conversations:
 * `/assistant/ask` (request sent → response read) and a chat message (frame pushed → reply
 * received at the sessionWebhook fake).
 */
export async function overhead(mode: Mode, options: OverheadOptions = OVERHEAD_DEFAULTS): Promise<ScenarioResult> {
  const measure = async (fake: BenchFake, svc: BenchService): Promise<ScenarioResult> => {
    const client = new AskClient(svc.url, options.parallel * 2);
    try {
      const http = await httpOverheads(client, options);
      const chat = await chatOverheads(fake, options);
      const fakeOwn = await fakeOwnMs(mode, fake, options.runMs);
      return {
        rows: overheadRows(mode, options.runMs, summarize(http.followUps), summarize(chat), http.firsts, fakeOwn),
        details: { runMs: options.runMs, http: summarize(http.followUps), chat: summarize(chat), httpFirst: summarize(http.firsts), fakeOwnMs: fakeOwn },
      };
    } finally {
      client.close();
    }
  };
  return withService(options.runMs, modeEnv(mode), measure, { mode });
}

/** What the fake itself adds to T for one answer (measured without the bridge). */
async function fakeOwnMs(mode: Mode, fake: BenchFake, runMs: number): Promise<number | undefined> {
  if (mode === 'stream') return (await fakeStreamRunMs(fake.fake)) - runMs;
  if (fake.model) return (await fake.model.ownAnswerMs()) - runMs;
  return undefined;
}

export async function httpOverheads(client: AskClient, o: OverheadOptions): Promise<{ followUps: number[]; firsts: number[] }> {
  const perWorker = Math.ceil(o.samples / o.parallel);
  const firsts: number[] = [];
  const followUps: number[] = [];
  await pool(o.parallel, o.parallel, async (w) => {
    const first = await client.askOk(`http first ${w}`);
    firsts.push(first.ms - o.runMs);
    await client.askOk(`http warm-up ${w}`, first.sessionId); // first follow-up not counted
    for (let i = 0; i < perWorker; i++) {
      const r = await client.askOk(`http follow-up ${w}.${i}`, first.sessionId);
      followUps.push(r.ms - o.runMs);
    }
  });
  return { followUps, firsts };
}

export async function chatOverheads(fake: BenchFake, o: OverheadOptions): Promise<number[]> {
  const perWorker = Math.ceil(o.samples / o.parallel);
  const out: number[] = [];
  const ask = async (cid: string, text: string) => {
    const id = fake.push(cid, text);
    const at = await fake.reply(cid, answerTo(text));
    return at - fake.pushedAt(id)!;
  };
  await pool(o.parallel, o.parallel, async (w) => {
    const cid = `cid-overhead-${w}`;
    await ask(cid, `chat first ${w}`);
    await ask(cid, `chat warm-up ${w}`);
    for (let i = 0; i < perWorker; i++) out.push((await ask(cid, `chat follow-up ${w}.${i}`)) - o.runMs);
  });
  return out;
}

function overheadRows(mode: Mode, runMs: number, http: Summary, chat: Summary, firsts: number[], fakeOwn: number | undefined): Row[] {
  const section = `1. Overhead = latency − T (T = ${runMs} ms), ${modeLabel(mode)}, follow-up questions`;
  const rows: Row[] = [];
  for (const [name, s] of [['/assistant/ask', http], ['chat frame → webhook', chat]] as const) {
    if ((mode === 'openai' || mode === 'dify') && fakeOwn !== undefined) {
      const bridge = s.p50 - fakeOwn;
      rows.push(row(section, `${name} p50 (n=${s.n})`, ms(s.p50)));
      rows.push(row(section, `${name} p50 over the fake's own time`, ms(bridge), '≤ 15 ms', bridge <= 15));
      rows.push(row(section, `${name} p99`, ms(s.p99)));
    } else if (mode === 'stream') {
      rows.push(row(section, `${name} p50 (n=${s.n})`, ms(s.p50), '< 30 ms', s.p50 < 30));
      rows.push(row(section, `${name} p99`, ms(s.p99), '< 100 ms', s.p99 < 100));
      const factor = SEED_AVERAGE_MS / s.mean;
      rows.push(row(section, `${name} mean vs seed's ~500 ms`, `${ms(s.mean)} (${round(factor)}× better)`, '≥ 10× better', factor >= 10));
    } else {
      rows.push(row(section, `${name} p50 (n=${s.n})`, ms(s.p50), '< 150 ms', s.p50 < 150));
      rows.push(row(section, `${name} p99`, ms(s.p99)));
      rows.push(row(section, `${name} mean`, ms(s.mean)));
    }
  }
  rows.push(row(section, '/assistant/ask, new conversation (mean)', ms(mean(firsts))));
  if (fakeOwn !== undefined) rows.push(row(section, "fake's own time beyond T (included above)", ms(fakeOwn)));
  return rows;
}
