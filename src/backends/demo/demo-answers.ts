/**
 * The demo backend's words: deterministic answers that say plainly they come from the demo and
 * how to connect a real model. Pure functions, so the same conversation always reads the same.
 */

/** Questions that ask for a long answer (to show how long answers are split). */
const LONG_REQUEST = /长回答|长篇|长一点|long answer/i;
/** Questions that ask for a failure (to show the friendly failure sentence and a failed card). */
const FAILURE_REQUEST = /演示错误|演示失败|demo error|demo failure/i;

/** A long answer is at least this long: about three DingTalk markdown messages. */
const LONG_ANSWER_MIN_CHARS = 7_500;

export type DemoRequest = 'answer' | 'long-answer' | 'failure';

export function demoRequestOf(question: string): DemoRequest {
  if (FAILURE_REQUEST.test(question)) return 'failure';
  return LONG_REQUEST.test(question) ? 'long-answer' : 'answer';
}

export interface DemoTurn {
  readonly question: string;
  /** 1 for the first question of a conversation. */
  readonly number: number;
  /** The conversation's previous question, when there was one. */
  readonly previous?: string;
}

/** The answer to a question; long when the question asks for one. */
export function demoAnswer(turn: DemoTurn): string {
  const parts = [header(), quote(turn.question), conversationLine(turn)];
  if (demoRequestOf(turn.question) === 'long-answer') parts.push(longBody());
  parts.push(connectModel());
  return parts.join('\n\n');
}

function header(): string {
  return [
    '**演示模式 · Demo mode**：我是内置的演示后端，没有连接真正的 AI 模型，回答都是固定的示例。',
    '*This is the built-in demo backend: no real AI model is connected, so every answer is a fixed example.*',
  ].join('\n');
}

function quote(question: string): string {
  const lines = question.split('\n').map((line) => `> ${line}`);
  return ['你的问题 · Your question:', ...lines].join('\n');
}

function conversationLine(turn: DemoTurn): string {
  if (!turn.previous) {
    return [
      `这是本次对话的第 ${turn.number} 个问题。再问一个问题，我会记得这一个；发送 /new 开始新对话。`,
      `*Question ${turn.number} of this conversation. Ask a follow-up and I will remember this one; /new starts over.*`,
    ].join('\n');
  }
  const previous = shorten(turn.previous, 40);
  return [
    `这是本次对话的第 ${turn.number} 个问题，你上一个问题是「${previous}」。发送 /new 后计数会从 1 重新开始。`,
    `*Question ${turn.number} of this conversation; your previous question was "${previous}". After /new the count starts again at 1.*`,
  ].join('\n');
}

function connectModel(): string {
  return [
    '**接入真实模型 · Connect a real model**：在 `.env` 中设置以下三个变量，然后重新运行 `npm run demo`（正式运行用 `npm start`）。',
    '*Set these three variables in `.env`, then run `npm run demo` again (or `npm start` for production).*',
    '- `OPENAI_BASE_URL`：例如 https://dashscope.aliyuncs.com/compatible-mode/v1',
    '- `OPENAI_API_KEY`：模型服务的 API Key · the service\'s API key',
    '- `OPENAI_MODEL`：例如 qwen-plus · the model name',
  ].join('\n');
}

const STUDY_TIPS: readonly string[] = [
  '先复习再做题：做作业前花十分钟回顾课堂笔记，能明显减少卡壳。Review your notes for ten minutes before homework; you will get stuck less often.',
  '把大任务拆小：一篇论文可以拆成选题、资料、提纲、初稿、修改五步，每一步都有明确的完成标准。Split a big task into small steps, each with a clear finish line.',
  '用自己的话复述：学完一个概念后，试着讲给同学听，讲不清楚的地方就是还没掌握的地方。Explain a new idea to a classmate; where you stumble is what you have not learned yet.',
  '间隔重复：单词和公式在第一天、第三天、第七天各复习一次，比一次背很久记得更牢。Spaced repetition beats cramming: revisit on day one, three and seven.',
  '错题本要写原因：只抄答案没有用，要写下当时为什么错、下次如何避免。A mistakes notebook helps only when it records why you went wrong.',
  '留出休息时间：每学习二十五分钟休息五分钟，注意力会保持得更久。Work for twenty-five minutes, rest for five; attention lasts longer.',
  '先问老师和同学：AI 的回答可能出错，重要的问题请和老师核对。AI answers can be wrong; check what matters with your teacher.',
  '作业要自己完成：可以用 AI 帮助理解题目，但不要把 AI 的回答当作业交。Use AI to understand, never hand in its answer as your own work.',
];

/** Numbered sections until the answer is long enough to need several messages. */
function longBody(): string {
  const sections = [
    '下面是一篇很长的示例回答，用来演示长回答如何拆分：钉钉的 markdown 消息超过约 3,500 字就显示不好，本服务会在段落或句子之间把回答拆成几条依次发送，每条末尾标上 (1/3) 这样的序号，群聊中第一条还会 @ 提问的同学。',
    '*A long sample answer, to show how long answers are split: the bridge cuts them between paragraphs or sentences, sends the parts in order, marks each (1/3), and in a group the first part @s the student who asked.*',
  ];
  let length = sections.join('\n\n').length;
  for (let i = 0; length < LONG_ANSWER_MIN_CHARS; i++) {
    const tip = STUDY_TIPS[i % STUDY_TIPS.length]!;
    const n = i + 1;
    const note = `（示例段落 ${n}：拆分时段落保持完整，只有过长的段落才在句子之间切开。Sample paragraph ${n}: paragraphs stay whole; only a too-long one is cut between sentences.）`;
    const section = `**${n}. 学习建议 · Study tip ${n}**\n${tip}\n${note}`;
    sections.push(section);
    length += section.length + 2;
  }
  return sections.join('\n\n');
}

function shorten(text: string, max: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}
