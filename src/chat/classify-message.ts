import type { ChatContent } from './chat-message.js';
import { hasVisibleText } from './visible-text.js';

/** The longest question the assistant accepts, in Unicode characters (as the HTTP API). */
export const MAX_QUESTION_CHARS = 2000;

/** What the bot should do with a message. */
export type ChatIntent =
  | { readonly kind: 'question'; readonly text: string }
  | { readonly kind: 'new-conversation' }
  | { readonly kind: 'help' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'too-long'; readonly limit: number }
  | { readonly kind: 'unsupported'; readonly type: string }
  | { readonly kind: 'voice-not-recognised' };

const NEW_COMMANDS = new Set(['/new', '新对话']);
const HELP_COMMANDS = new Set(['/help', '帮助']);

/**
 * Pure: decides between a command, a question and a short canned reply. Commands are matched
 * on the trimmed text (case-insensitive, full-width slash accepted); a question keeps the
 * user's text as written, apart from the whitespace the @mention left at the start.
 */
export function classifyMessage(content: ChatContent): ChatIntent {
  if (content.kind === 'unsupported') return { kind: 'unsupported', type: content.type };
  const text = content.text.replace(/^\s+/, '');
  // Only invisible characters (zero-width spaces, fillers) is no question either, as over HTTP.
  if (!hasVisibleText(text)) return content.fromVoice ? { kind: 'voice-not-recognised' } : { kind: 'empty' };
  const command = text.trim().replace(/^／/, '/').toLowerCase();
  if (NEW_COMMANDS.has(command)) return { kind: 'new-conversation' };
  if (HELP_COMMANDS.has(command)) return { kind: 'help' };
  if (countChars(text, MAX_QUESTION_CHARS + 1) > MAX_QUESTION_CHARS) {
    return { kind: 'too-long', limit: MAX_QUESTION_CHARS };
  }
  return { kind: 'question', text: text.replace(/\s+$/, '') };
}

/** Code points, not UTF-16 units (an emoji is one character); stops counting at `stopAt`. */
function countChars(text: string, stopAt: number): number {
  let n = 0;
  for (const _ of text) if (++n >= stopAt) break;
  return n;
}
