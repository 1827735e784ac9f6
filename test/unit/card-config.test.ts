import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { configProblems } from '../helpers/config-problems.js';

const BASE = {
  DING_APP_KEY: 'key',
  DING_APP_SECRET: 'secret',
  OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  OPENAI_API_KEY: 'sk-test',
  OPENAI_MODEL: 'qwen-plus',
};


const problemsOf = configProblems;

describe('reply mode configuration', () => {
  it('defaults to markdown, content key "content" and a 1 s card interval', () => {
    expect(loadConfig(BASE).replies).toEqual({ mode: 'markdown', cardTemplateId: '', cardContentKey: 'content', cardUpdateIntervalMs: 1000 });
  });

  it('card mode needs the template id, named in the problem list with the other problems', () => {
    const p = problemsOf({ ...BASE, DINGTALK_REPLY_MODE: 'card', PORT: 'x' });
    expect(p).toMatch(/DINGTALK_CARD_TEMPLATE_ID is required when DINGTALK_REPLY_MODE=card/);
    expect(p).toContain('PORT');
    const c = loadConfig({ ...BASE, DINGTALK_REPLY_MODE: 'Card', DINGTALK_CARD_TEMPLATE_ID: ' tpl-1.schema ', DINGTALK_CARD_CONTENT_KEY: 'msgContent' });
    expect(c.replies).toMatchObject({ mode: 'card', cardTemplateId: 'tpl-1.schema', cardContentKey: 'msgContent' });
  });

  it('refuses an interval under 500 ms, an unknown mode and a content key that is not a variable name', () => {
    expect(problemsOf({ ...BASE, CARD_UPDATE_INTERVAL_MS: '200' })).toMatch(/CARD_UPDATE_INTERVAL_MS must be at least 500/);
    expect(problemsOf({ ...BASE, DINGTALK_REPLY_MODE: 'cards' })).toMatch(/DINGTALK_REPLY_MODE must be markdown or card/);
    expect(problemsOf({ ...BASE, DINGTALK_CARD_CONTENT_KEY: 'my content' })).toMatch(/DINGTALK_CARD_CONTENT_KEY must be a template variable name/);
    expect(loadConfig({ ...BASE, CARD_UPDATE_INTERVAL_MS: '500' }).replies.cardUpdateIntervalMs).toBe(500);
  });
});
