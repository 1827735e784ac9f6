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
