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
} as const;

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
