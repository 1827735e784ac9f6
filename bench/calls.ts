import { AskClient, pool } from './lib/ask-client.js';
import { answerTo, type BenchFake, CALL_KINDS, type CallCounts, diffCounts } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import { type Mode, modeEnv, modeLabel, type ScenarioResult, withService } from './lib/scenario.js';
import { round } from './lib/stats.js';

export interface CallsOptions {
  readonly runMs: number;
  /** Answers per phase. */
  readonly answers: number;
  readonly parallel: number;
}

export const CALLS_DEFAULTS: CallsOptions = { runMs: 800, answers: 10, parallel: 5 };

type PerAnswer = Record<keyof CallCounts, number>;

/**
 * Upstream calls per answer, by endpoint, counted by the fake DingTalk: a first question (new
 * thread) and a follow-up in an existing conversation, over HTTP and over chat. The service is
 * warmed up first, so a token request inside a phase would be one per answer too many.
 */
export async function calls(mode: Mode, options: CallsOptions = CALLS_DEFAULTS): Promise<ScenarioResult> {
  return withService(options.runMs, modeEnv(mode), async (fake, svc) => {
    const client = new AskClient(svc.url, options.parallel * 2);
    try {
      await client.askOk('warm-up'); // fetches the access token once
      const sessions: string[] = [];
      const phases: Record<string, PerAnswer> = {};
      phases['/assistant/ask, new conversation'] = await phase(fake, options.answers, async () => {
        await pool(options.answers, options.parallel, async (i) => sessions.push((await client.askOk(`calls first ${i}`)).sessionId));
      });
      phases['/assistant/ask, follow-up'] = await phase(fake, options.answers, async () => {
        await pool(options.answers, options.parallel, (i) => client.askOk(`calls follow-up ${i}`, sessions[i]));
      });
      phases['chat, new conversation'] = await phase(fake, options.answers, () => chatRound(fake, options, 'first'));
      phases['chat, follow-up'] = await phase(fake, options.answers, () => chatRound(fake, options, 'again'));
      return { rows: callRows(mode, phases), details: { runMs: options.runMs, perAnswer: phases } };
    } finally {
      client.close();
    }
  });
}


async function phase(fake: BenchFake, answers: number, work: () => Promise<unknown>): Promise<PerAnswer> {
  const before = fake.counts();
  await work();
  const d = diffCounts(fake.counts(), before);
  const out = { ...d };
  for (const k of Object.keys(out) as Array<keyof CallCounts>) out[k] = round(d[k] / answers, 2);
  return out;
}

async function chatRound(fake: BenchFake, o: CallsOptions, tag: string): Promise<void> {
  await pool(o.answers, o.parallel, async (i) => {
    const cid = `cid-calls-${i}`;
    const text = `calls ${tag} ${i}`;
    fake.push(cid, text);
    await fake.reply(cid, answerTo(text));
  });
}

function callRows(mode: Mode, phases: Record<string, PerAnswer>): Row[] {
  const section = `2. Upstream calls per answer, ${modeLabel(mode)}`;
  const rows: Row[] = [];
  for (const [name, c] of Object.entries(phases)) {
    const total = round(CALL_KINDS.reduce((n, k) => n + c[k], 0), 2);
    const detail = CALL_KINDS.filter((k) => c[k] > 0).map((k) => `${k} ${c[k]}`).join(', ');
    const followUp = name.endsWith('follow-up');
    const met = mode === 'stream' && followUp ? total <= 3 : undefined;
    rows.push(row(section, `${name}: total (${detail})`, String(total), met === undefined ? undefined : '≤ 3', met));
    rows.push(row(section, `${name}: token requests per answer`, String(c.token), '0', c.token === 0));
  }
  return rows;
}
