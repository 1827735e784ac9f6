import type { AssistantErrorKind } from '../errors.js';

/**
 * Everything the bot says on its own, in one place so the school can change the wording.
 * Each text is short Chinese with a brief English line; answers of the assistant are not here.
 */
export const CHAT_TEXTS = {
  help: [
    '我是学校的 AI 助手 🤖 在群里 @我 提问，或私聊直接发消息即可。',
    '命令：「/new」或「新对话」开始新的对话；「/help」或「帮助」查看本说明。',
    "I'm the school's AI assistant: @ me in a group or message me directly. /new starts a new conversation, /help shows this.",
  ].join('\n'),
  emptyQuestion: '请在 @我 后面写下你的问题，发送「帮助」查看用法。\nPlease type your question after the @mention; send /help for help.',
  newConversation: '好的，已开始新的对话。\nOK, we are starting a new conversation.',
  thinking: '正在思考，请稍候…\nWorking on it, one moment…',
  unsupported: '暂时只能读文字和语音消息，图片、文件和视频还不支持。\nSorry, I can only read text and voice messages for now.',
  voiceNotRecognised: '没听清这条语音，请再说一遍或改用文字。\nSorry, I could not make out that voice message; please try again or type it.',
  busy: '前面的问题还在处理中，请稍后再发。\nI am still working on your earlier questions; please try again shortly.',
  slowDown: '你发得有点快，请稍等一会儿再问。\nYou are sending messages a bit fast; please wait a moment.',
  notEnabled: '这里暂未开通 AI 助手，请联系老师。\nThe assistant is not enabled here; please ask a teacher.',
  failed: '抱歉，这次没能得到回答，请稍后重试。\nSorry, I could not get an answer this time; please try again.',
  timeout: '抱歉，回答超时了，请稍后重试。\nSorry, that took too long; please try again.',
  rateLimited: '现在提问的人太多了，请过一分钟再试。\nMany people are asking right now; please try again in a minute.',
  unavailable: 'AI 助手暂时不可用，请稍后重试。\nThe assistant is temporarily unavailable; please try again later.',
  refused: '抱歉，这个问题我无法回答，换个问题试试吧。\nSorry, I cannot answer that one; please try a different question.',
  needsForm: '这个应用需要填写表单，机器人里暂时无法显示，请联系老师。\nThis app needs a form, which the bot cannot show; please ask a teacher.',
  /** Ends an AI card whose answer goes on in the messages below it. */
  cardContinued: '（内容较长，续见下方消息 · continued below）',
  /** Closes an AI card whose answer had to be sent as a message instead. */
  cardAnsweredBelow: '（回答见下方消息 · see the message below）',
  /** Ends the last message of an answer longer than ANSWER_MAX_PARTS messages. */
  answerPartsCut: '（回答太长，后面的部分已省略 · The answer was too long; the rest was left out.）',
  /** Above an answer that could not be delivered before and goes out with the user's next message. */
  heldReplyIntro: '（这是你上一条消息的回答 · The answer to your previous message:）',
  teacherHelp: [
    '老师命令（仅老师可用）：',
    '「/exam on [分钟]」在本群开启考试模式（默认 120 分钟），「/exam off」结束；考试期间机器人不回答本群学生的问题。',
    '「/quota <工号> +N」（私聊）今天给该学生增加 N 次提问，「/quota <工号>」查看其今天的用量。',
    'Teacher commands: /exam on [minutes] | /exam off in a group; /quota <staffId> [+N] in a direct chat.',
  ].join('\n'),
  personalDataRemoved:
    '（为保护隐私，你消息中的身份证号、手机号或邮箱已隐去，没有发送给 AI。）\n(For your privacy, ID numbers, phone numbers and email addresses were removed before your message reached the AI.)',
  teachersOnly: '这个命令只有老师可以使用。\nOnly teachers can use this command.',
  quotaInDirectChat: '请私聊我使用 /quota 命令。\nPlease use /quota in a direct chat with me.',
  examInGroup: '请在要考试的班级群里发送 /exam 命令。\nPlease send /exam in the class group that is taking the exam.',
  examEnded: '考试模式已结束，同学们可以继续提问了。\nExam mode is off; students can ask questions again.',
  examNotRunning: '本群当前没有进行中的考试。\nNo exam is running in this group.',
  commandUsage: '用法：/exam on [分钟]、/exam off（群里）；/quota <工号> [+N]（私聊）。\nUsage: /exam on [minutes], /exam off (in a group); /quota <staffId> [+N] (direct chat).',
} as const;

/** Today's questions are used up (STUDENT_DAILY_QUOTA); said once a day. */
export function quotaReachedText(limit: number): string {
  return `今天的 ${limit} 次提问已经用完啦，明天 00:00 后可以继续提问。先整理一下今天学到的内容吧！\nYou have used today's ${limit} questions; you can ask again after 00:00 tomorrow.`;
}

/** Quiet hours (QUIET_HOURS); said once per quiet period. */
export function quietHoursText(backAt: string): string {
  return `现在是休息时间，AI 助手 ${backAt} 再回来。早点休息哦！\nThe assistant is resting now and will be back at ${backAt}. Time for some rest!`;
}

/** A student's question in a group during an exam; said once per exam. */
export function examInProgressText(endsAt: string): string {
  return `考试进行中（至 ${endsAt}），AI 助手暂停回答问题。加油！\nAn exam is in progress (until ${endsAt}); the assistant is paused. Good luck!`;
}

export function examStartedText(endsAt: string): string {
  return `考试模式已开启，至 ${endsAt} 自动结束（发送 /exam off 提前结束）。期间本群学生的问题不会被回答。\nExam mode is on until ${endsAt} (send /exam off to end it early). Students' questions in this group will not be answered.`;
}

export function quotaStatusText(staffId: string, used: number, limit: number, granted: number): string {
  const extra = granted > 0 ? `（含老师今天增加的 ${granted} 次）` : '';
  const extraEn = granted > 0 ? ` (including ${granted} granted today)` : '';
  const cap = limit === 0 ? '不限' : String(limit + granted);
  return `${staffId} 今天已提问 ${used} 次，上限 ${cap} 次${extra}。\n${staffId} has asked ${used} questions today, limit ${limit === 0 ? 'none' : limit + granted}${extraEn}.`;
}

export function quotaGrantedText(staffId: string, extra: number): string {
  return `已为 ${staffId} 今天增加 ${extra} 次提问（仅限今天）。\nGranted ${staffId} ${extra} more questions for today only.`;
}

/**
 * The caring reply to a message that matched a crisis phrase (CRISIS_REPLY replaces it). It
 * never comes from the model.
 */
export function crisisReplyText(counsellorContact: string | undefined, counsellorsAlerted: boolean): string {
  const contact = counsellorContact ? `学校心理老师：${counsellorContact}。` : '你可以随时去找学校的心理老师或班主任聊聊。';
  const alerted = counsellorsAlerted ? '我们已经请学校的心理老师来关心你。' : '';
  return [
    `谢谢你愿意说出来，你的感受很重要，你不是一个人。${alerted}`,
    contact,
    '现在就想找人聊聊，可以拨打全国心理援助热线 12356，或青少年服务台 12355。如果你或别人正处在危险中，请立刻拨打 110 或 120，并告诉身边的大人。',
    `Thank you for telling me. How you feel matters and you are not alone.${counsellorsAlerted ? " We have asked the school's counsellor to reach out to you." : ''}`,
    counsellorContact ? `School counsellor: ${counsellorContact}.` : 'Please talk to the school counsellor or your homeroom teacher.',
    'To talk to someone now, call the national mental-health hotline 12356 or the youth hotline 12355. If you or someone else is in danger, call 110 or 120 right away and tell an adult near you.',
  ].join('\n');
}

/** What a counsellor receives (a DingTalk direct message): who, where, when; the text only if allowed. */
export function counsellorAlertText(alert: { who: string; where: string; when: string; text?: string }): string {
  const lines = [
    '【学生关怀提醒 · Student wellbeing alert】',
    `${alert.who} 在${alert.where}发给 AI 助手的消息中可能涉及自伤、轻生或受到伤害。AI 没有回答，已给出关怀回复和求助热线。请尽快关心一下。`,
    `时间 When：${alert.when}`,
    `A message to the AI assistant from ${alert.who} may be about self-harm or abuse; it was not answered by the AI. Please reach out soon.`,
  ];
  if (alert.text !== undefined) lines.push(`原文 Message：${alert.text}`);
  return lines.join('\n');
}

/** The question is longer than the assistant accepts. */
export function tooLongText(limit: number): string {
  return `问题太长了（最多 ${limit} 个字），请精简后再发。\nYour message is too long (at most ${limit} characters); please shorten it.`;
}

/** The one sentence a user sees when the assistant could not answer. */
export function assistantFailureText(kind: AssistantErrorKind): string {
  switch (kind) {
    case 'timeout':
      return CHAT_TEXTS.timeout;
    case 'rate_limited':
      return CHAT_TEXTS.rateLimited;
    case 'unavailable':
      return CHAT_TEXTS.unavailable;
    case 'blocked':
      return CHAT_TEXTS.refused;
    case 'unsupported':
      return CHAT_TEXTS.needsForm;
    default:
      return CHAT_TEXTS.failed;
  }
}

/** The short reply to a message that is not a question for the model (empty, too long, unsupported). */
export function cannedText(kind: string, limit: number): string {
  switch (kind) {
    case 'empty':
      return CHAT_TEXTS.emptyQuestion;
    case 'too-long':
      return tooLongText(limit);
    case 'voice-not-recognised':
      return CHAT_TEXTS.voiceNotRecognised;
    default:
      return CHAT_TEXTS.unsupported;
  }
}
