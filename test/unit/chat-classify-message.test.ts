import { describe, expect, it } from 'vitest';
import { assistantFailureText, CHAT_TEXTS, tooLongText } from '../../src/chat/chat-texts.js';
import { classifyMessage } from '../../src/chat/classify-message.js';

const text = (t: string, fromVoice = false) => classifyMessage({ kind: 'text', text: t, fromVoice });

describe('classifyMessage', () => {
  it('recognises the commands in Chinese and English', () => {
    for (const t of ['/new', ' /NEW ', '新对话', '／new']) expect(text(t)).toEqual({ kind: 'new-conversation' });
    for (const t of ['/help', '帮助', ' /Help\n']) expect(text(t)).toEqual({ kind: 'help' });
    expect(text('/new question')).toEqual({ kind: 'question', text: '/new question' });
  });

  it('keeps the question as written apart from surrounding whitespace', () => {
    expect(text('  What is *F = ma*?\n  (in Chinese)  ')).toEqual({ kind: 'question', text: 'What is *F = ma*?\n  (in Chinese)' });
  });

  it('handles empty, voice without recognition, too long and unsupported', () => {
    expect(text(' \n ')).toEqual({ kind: 'empty' });
    expect(text('', true)).toEqual({ kind: 'voice-not-recognised' });
    expect(text('字'.repeat(2000)).kind).toBe('question');
    expect(text('😀'.repeat(2000)).kind).toBe('question'); // characters, not UTF-16 units
    expect(text('字'.repeat(2001))).toEqual({ kind: 'too-long', limit: 2000 });
    expect(classifyMessage({ kind: 'unsupported', type: 'picture' })).toEqual({ kind: 'unsupported', type: 'picture' });
  });
});

describe('chat texts', () => {
  it('are short, bilingual and never empty', () => {
    const all = [...Object.values(CHAT_TEXTS), tooLongText(2000)];
    for (const t of all) {
      expect(t.length).toBeLessThan(300);
      expect(/[\u4e00-\u9fff]/.test(t)).toBe(true);
      expect(/[A-Za-z]{3}/.test(t)).toBe(true);
    }
    expect(assistantFailureText('timeout')).toBe(CHAT_TEXTS.timeout);
    expect(assistantFailureText('auth')).toBe(CHAT_TEXTS.failed);
  });
});

describe('invisible-only messages', () => {
  it('treats a message of only zero-width spaces, fillers or a BOM as empty, like the HTTP API', () => {
    for (const text of ['\u200b\u200b', '\u3164', '\ufeff \u200d', '\u2800', '\u115f\u1160']) {
      expect(classifyMessage({ kind: 'text', text })).toEqual({ kind: 'empty' });
    }
    expect(classifyMessage({ kind: 'text', text: '\u200b', fromVoice: true })).toEqual({ kind: 'voice-not-recognised' });
    expect(classifyMessage({ kind: 'text', text: '\u200bhi\u200b' })).toMatchObject({ kind: 'question' });
  });
});
