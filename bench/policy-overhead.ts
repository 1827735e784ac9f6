import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CRISIS_PHRASES } from '../src/policy/crisis-phrases.js';
import { PhraseMatcher } from '../src/policy/phrase-matcher.js';
import { pool } from './lib/ask-client.js';
import { answerTo, type BenchFake, startBenchFake } from './lib/fake.js';
import { row, type Row } from './lib/report.js';
import type { ScenarioResult } from './lib/scenario.js';
import { type BenchService, benchEnv, startService } from './lib/service.js';
import { ms, percentile, type Summary, summarize } from './lib/stats.js';

export interface PolicyOverheadOptions {
  /** The fake run's fixed duration T (ms). */
  readonly runMs: number;
  /** Follow-up questions measured per service. */
  readonly samples: number;
  /** Conversations asking side by side per service (half DMs, half in groups). */
  readonly parallel: number;
  /** Terms in the blocked-words file. */
  readonly blockedTerms: number;
}

export const POLICY_OVERHEAD_DEFAULTS: PolicyOverheadOptions = { runMs: 200, samples: 400, parallel: 4, blockedTerms: 1000 };

/**
 * Issue 11's figure: the chat overhead p50 (frame pushed → reply received − T) with every
 * policy feature on and a 1,000-term blocked-words file, against the same run with the
 * features off. The services run at once, each with its own fake DingTalk, so all see the same
 * machine load; a second features-off service measures the noise floor. The label and the
 * audit record cannot be turned off and are in all of them.
 */
export async function policyOverhead(options: PolicyOverheadOptions = POLICY_OVERHEAD_DEFAULTS): Promise<ScenarioResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-policy-'));
  const blocked = blockedTerms(options.blockedTerms);
  writeFileSync(path.join(dir, 'blocked.txt'), blocked.join('\n'));
  writeFileSync(path.join(dir, 'crisis.txt'), Array.from({ length: 100 }, (_, i) => `校本危机词${i}号`).join('\n'));
  const on = {
    TEACHER_USERS: Array.from({ length: 200 }, (_, i) => `teacher${i}`).join(','),
    TEACHERS_FROM_ADMINS: 'true',
    STUDENT_DAILY_QUOTA: '100000',
    QUIET_HOURS: quietHoursNotNow(),
    BLOCKED_WORDS_FILE: path.join(dir, 'blocked.txt'),
    CRISIS_WORDS_FILE: path.join(dir, 'crisis.txt'),
    COUNSELLOR_USERS: 'counsellor1,counsellor2',
    TRANSCRIPT_RETENTION_DAYS: '7',
    STUDENT_PROMPT: 'Guide, do not solve.',
  };
  const off = { STUDENT_DAILY_QUOTA: '0', TRANSCRIPT_RETENTION_DAYS: '0' };
  const fakes: BenchFake[] = [];
  const services: BenchService[] = [];
  try {
    // Two services with the features off: their difference is the noise floor of the figure.
    for (const env of [off, off, on]) {
      const fake = await startBenchFake(options.runMs);
      fakes.push(fake);
      services.push(await startService(benchEnv(fake, env)));
    }
    // An exam in another group: every group question of the "on" service looks it up.
    await examElsewhere(fakes[2]!);
    const [offMs, off2Ms, onMs] = await askedTogether(fakes, options);
    const scan = scanMicros(new PhraseMatcher(blocked));
    const crisisScan = scanMicros(new PhraseMatcher(CRISIS_PHRASES));
    const summaries = {
      off: summarize(offMs!),
      off2: summarize(off2Ms!),
      on: summarize(onMs!),
      difference: summarize(onMs!.map((v, i) => v - offMs![i]!)),
    };
    return { rows: rows(summaries, scan, crisisScan, options), details: { options, ...summaries, scanMicros: scan, crisisScanMicros: crisisScan } };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all(fakes.map((f) => f.close()));
  }
}

/**
 * Each worker asks the same question of every service at the same moment and waits for all
 * answers before the next, so a busy moment of the shared machine falls on all of them (the
 * figure is a difference of a few hundred microseconds inside ~20 ms of overhead). Resolves
 * the overheads per service, in matching order.
 */
async function askedTogether(fakes: readonly BenchFake[], o: PolicyOverheadOptions): Promise<number[][]> {
  const perWorker = Math.ceil(o.samples / o.parallel);
  const out: number[][] = fakes.map(() => []);
  await pool(o.parallel, o.parallel, async (w) => {
    const group = w % 2 === 1;
    const ask = async (fake: BenchFake, s: number, text: string) => {
      const cid = `cid-policy-${s}-${w}`;
      const id = fake.push(cid, text, { group, staffId: `student-${s}-${w}` });
      const at = await fake.reply(cid, answerTo(text));
      return at - fake.pushedAt(id)! - o.runMs;
    };
    // The frames go out in a rotating order, so no service is always the first or the last one served.
    const together = async (text: string, turn: number) => {
      const order = fakes.map((_, s) => (s + turn + w) % fakes.length);
      const results = await Promise.all(order.map((s) => ask(fakes[s]!, s, text)));
      const overheads: number[] = [];
      order.forEach((s, k) => (overheads[s] = results[k]!));
      return overheads;
    };
    await together(`${question(w)} first`, 0);
    await together(`${question(w)} warm-up`, 1);
    for (let i = 0; i < perWorker; i++) {
      const overheads = await together(`${question(w)} follow-up ${i}`, i);
      overheads.forEach((v, s) => out[s]!.push(v));
    }
  });
  return out;
}

/** A realistic student question (~120 characters), clean of every list. */
function question(w: number): string {
  return `老师布置的物理作业第${w}题：一个质量为2千克的物体在光滑水平面上受到10牛的水平拉力，请问它的加速度是多少？我应该先从哪个公式开始想？Please give me a hint.`;
}

/** `n` terms of mixed scripts and lengths, none of which occurs in the questions or answers. */
function blockedTerms(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `forbidden-term-${i.toString(36)}` : `违禁词${i}号${'甲乙丙丁'[i % 4]}`));
}

/** A quiet-hours window that does not contain the current minute in Shanghai (the check still runs). */
function quietHoursNotNow(): string {
  const hour = (new Date().getUTCHours() + 8 + 12) % 24;
  return `${String(hour).padStart(2, '0')}:00-${String((hour + 1) % 24).padStart(2, '0')}:00`;
}

async function examElsewhere(fake: BenchFake): Promise<void> {
  const cid = 'cid-policy-exam';
  fake.fake.gateway.push({ ...fake.fake.robot.robotMessage({ conversationId: cid, group: true, staffId: 'teacher0', text: '/exam on 600' }) });
  const until = performance.now() + 10_000;
  while (!fake.replies.some((r) => r.conversationId === cid)) {
    if (performance.now() > until) throw new Error('exam mode did not start');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Median µs to scan a 2,000-character answer (clean, so the whole text is read). */
function scanMicros(matcher: PhraseMatcher): number {
  const text = '光合作用是植物利用光能把二氧化碳和水转化为葡萄糖并释放氧气的过程。Photosynthesis turns light into chemical energy. '.repeat(30).slice(0, 2000);
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    if (matcher.findIn(text) !== undefined) throw new Error('the benchmark text must be clean');
    times.push((performance.now() - t) * 1000);
  }
  return percentile(times, 50);
}

function rows(s: { off: Summary; off2: Summary; on: Summary; difference: Summary }, scan: number, crisisScan: number, o: PolicyOverheadOptions): Row[] {
  const section = `8. School policy overhead (issue 11), chat, T = ${o.runMs} ms, ${o.parallel} conversations per service, asked together`;
  const rise = s.on.p50 - s.off.p50;
  return [
    row(section, `overhead p50, policy features off (n=${s.off.n})`, ms(s.off.p50)),
    row(section, `overhead p50, every feature on, ${o.blockedTerms} blocked terms (n=${s.on.n})`, ms(s.on.p50)),
    row(section, 'p50 rise with every feature on', ms(rise), '≤ 1 ms', rise <= 1),
    row(section, 'noise floor: p50 of a second features-off service − the first', ms(s.off2.p50 - s.off.p50)),
    row(section, 'median of the per-question differences (on − off)', ms(s.difference.p50)),
    row(section, 'overhead p99 off / on', `${ms(s.off.p99)} / ${ms(s.on.p99)}`),
    row(section, `blocked-words scan of a 2,000-character answer, ${o.blockedTerms} terms (median)`, `${scan.toFixed(1)} µs`),
    row(section, `crisis-phrase scan of the same text, ${CRISIS_PHRASES.length} built-in phrases (median)`, `${crisisScan.toFixed(1)} µs`),
  ];
}
