import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { configProblems } from '../helpers/config-problems.js';

const BASE = { DING_APP_KEY: 'k', DING_APP_SECRET: 's', OPENAI_BASE_URL: 'https://x.example/v1', OPENAI_API_KEY: 'sk', OPENAI_MODEL: 'm' };


const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

describe('chat limits (issue 13)', () => {
  it('has the documented defaults', () => {
    expect(loadConfig(BASE).chatLimits).toEqual({
      refusalNoticeMs: 60_000,
      groupThinkingNoticeMs: 30_000,
      frameMaxBytes: 1024 * 1024,
      answerMaxChars: 64_000,
      answerMaxParts: 8,
      webhookOrigins: ['https://oapi.dingtalk.com'],
    });
  });

  it('reads webhook origins as a list of origins, with or without a trailing slash', () => {
    const c = loadConfig({ ...BASE, DINGTALK_WEBHOOK_ORIGINS: 'https://oapi.dingtalk.com/, http://127.0.0.1:4100' });
    expect(c.chatLimits.webhookOrigins).toEqual(['https://oapi.dingtalk.com', 'http://127.0.0.1:4100']);
  });

  it('refuses a webhook "origin" with a path, another scheme or nothing in it, naming the variable', () => {
    expect(problems({ DINGTALK_WEBHOOK_ORIGINS: 'https://oapi.dingtalk.com/robot/send' })).toMatch(/DINGTALK_WEBHOOK_ORIGINS .*is not an origin/);
    expect(problems({ DINGTALK_WEBHOOK_ORIGINS: 'ftp://files.example' })).toMatch(/DINGTALK_WEBHOOK_ORIGINS/);
    expect(problems({ DINGTALK_WEBHOOK_ORIGINS: ' , ' })).toMatch(/DINGTALK_WEBHOOK_ORIGINS is empty/);
  });

  it('reports every out-of-range limit at once', () => {
    const p = problems({ STREAM_FRAME_MAX_KB: '9000', ANSWER_MAX_CHARS: '10', ANSWER_MAX_PARTS: '0', CHAT_REFUSAL_NOTICE_SECONDS: 'soon', THINKING_NOTICE_GROUP_SECONDS: '-1' });
    for (const name of ['STREAM_FRAME_MAX_KB', 'ANSWER_MAX_CHARS', 'ANSWER_MAX_PARTS', 'CHAT_REFUSAL_NOTICE_SECONDS', 'THINKING_NOTICE_GROUP_SECONDS']) {
      expect(p).toContain(name);
    }
  });
});
