import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { callbackFrame } from '../src/demo/simulator/stream-frames.js';
import { type Row, row } from './lib/report.js';
import { type ScenarioResult, withService } from './lib/scenario.js';
import { percentile, round } from './lib/stats.js';

/**
 * Issue 13, the chat door (`npm run bench -- chat-limits`): what a hostile upstream or a flooding
 * student costs. In-process: a 4 M-character streamed answer through each backend's text
 * accumulation, and splitting 1 M characters without punctuation (time against 100 K: linear
 * is ×10). As a process: a 3 MiB Stream frame (acked, RSS after) and one student's 40 messages
 * at once into a group (posts by the bot). BENCH_SERVICE_ROOT measures another tree the same way.
 */
const SECTION = 'Chat limits (issue 13)';
const ROOT = path.resolve(process.env.BENCH_SERVICE_ROOT ?? path.resolve(import.meta.dirname, '..'));

const load = <T>(file: string): Promise<T> => import(pathToFileURL(path.join(ROOT, file)).href) as Promise<T>;

export async function chatLimits(): Promise<ScenarioResult> {
  const streamed = await streamedAnswer();
  const split = await splitTimes();
  const service = await serviceFigures();
  const rows: Row[] = [
    row(SECTION, 'OpenAI/Dify text: 4 M chars streamed in 1 K deltas', `${streamed.answerText.ms} ms, ${streamed.answerText.kept} chars kept`, '≤ 1,000 ms, ≤ 64 K kept', streamed.answerText.ms <= 1_000 && streamed.answerText.kept <= 64_100),
    row(SECTION, 'DingTalk assistant folding: 4 M chars, 1 K append deltas', `${streamed.folding.ms} ms, ${streamed.folding.kept} chars kept`, '≤ 1,000 ms, ≤ 64 K kept', streamed.folding.ms <= 1_000 && streamed.folding.kept <= 64_100),
    row(SECTION, 'split 1 M chars without punctuation (median of 5)', `${split.millionMs} ms`, '≤ 2,000 ms', split.millionMs <= 2_000),
    row(SECTION, 'split time 1 M / 100 K (linear = 10)', `×${split.ratio}`, '≤ ×20', split.ratio <= 20),
    row(SECTION, '3 MiB frame: acked', service.bigFrameAcked ? `yes, in ${service.bigFrameAckMs} ms` : 'no', 'acked', service.bigFrameAcked),
    row(SECTION, '3 MiB frame: RSS after − before', `${service.rssDeltaMb} MB`, '≤ 50 MB', service.rssDeltaMb <= 50),
    row(SECTION, '40 messages from one student at once: bot posts', String(service.burstPosts), '≤ 6', service.burstPosts <= 6),
  ];
  return { rows, details: { streamed, split, service } };
}

async function streamedAnswer(): Promise<{ answerText: { ms: number; kept: number }; folding: { ms: number; kept: number } }> {
  type AnswerTextModule = { AnswerText: new (onText?: (t: string) => void) => { append(d: string): void; finish(): string } };
  type FolderModule = {
    createRunStreamState(): unknown;
    foldRunEvent(state: unknown, ev: { event: string; data: string }): void;
    partialAnswer(state: unknown): string;
  };
  const { AnswerText } = await load<AnswerTextModule>('src/backends/model-http/answer-text.ts');
  const folder = await load<FolderModule>('src/backends/dingtalk-assistant/sse-folder.ts');
  const delta = 'a'.repeat(1_000);
  let started = performance.now();
  const text = new AnswerText(() => undefined);
  for (let i = 0; i < 4_000; i++) text.append(delta);
  const answer = text.finish();
  const answerText = { ms: Math.round(performance.now() - started), kept: answer.length };
  const state = folder.createRunStreamState();
  const event = { event: 'thread.message.delta', data: JSON.stringify({ mode: 'append', messageId: 'm', delta: { type: 'text', text: { value: delta } } }) };
  started = performance.now();
  let soFar = '';
  for (let i = 0; i < 4_000; i++) {
    folder.foldRunEvent(state, event);
    soFar = folder.partialAnswer(state); // what a card update reads after every event
  }
  return { answerText, folding: { ms: Math.round(performance.now() - started), kept: soFar.length } };
}

async function splitTimes(): Promise<{ millionMs: number; hundredKMs: number; ratio: number }> {
  type SplitModule = { splitMessage(text: string, budget: { maxChars: number; maxJsonBytes?: number }): string[] };
  const { splitMessage } = await load<SplitModule>('src/replies/dingtalk-markdown/split-message.ts');
  const time = (n: number) => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      splitMessage('字'.repeat(n), { maxChars: 3_400, maxJsonBytes: 13_900 });
      samples.push(performance.now() - t);
    }
    return percentile(samples, 50);
  };
  const hundredKMs = time(100_000);
  const millionMs = time(1_000_000);
  return { millionMs: round(millionMs, 0), hundredKMs: round(hundredKMs, 1), ratio: round(millionMs / hundredKMs, 1) };
}

async function serviceFigures(): Promise<{ bigFrameAcked: boolean; bigFrameAckMs: number; rssDeltaMb: number; burstPosts: number }> {
  const env = { USER_RATE_LIMIT: '20/minute', CONVERSATION_QUEUE_LIMIT: '5', CHAT_QUEUE_LIMIT: '5' };
  return withService(150, env, async (fake, svc) => {
    const gateway = fake.fake.gateway;
    const before = svc.rssMb();
    const payload = fake.fake.robot.robotMessage({ conversationId: 'cidBig', text: '长'.repeat(1024 * 1024) });
    const started = performance.now();
    gateway.sendRaw(callbackFrame('/v1.0/im/bot/messages/get', 'bench-big-frame', payload));
    const ackedAt = await fake.ack('bench-big-frame', 10_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const rssDeltaMb = round(svc.rssMb() - before, 1);
    for (let i = 1; i <= 40; i++) fake.push('cidFlood', `flood ${i}`, { group: true, staffId: 'stu-flood' });
    await fake.reply('cidFlood', '答：flood 5', 20_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1_500)); // anything else the burst causes arrives by now
    const burstPosts = fake.replies.filter((r) => r.conversationId === 'cidFlood').length;
    return { bigFrameAcked: ackedAt !== undefined, bigFrameAckMs: ackedAt === undefined ? -1 : round(ackedAt - started, 1), rssDeltaMb, burstPosts };
  });
}
