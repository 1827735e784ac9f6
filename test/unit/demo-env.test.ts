import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DemoConfigError, demoModelOf, demoServiceEnv, loadDemoSettings } from '../../src/demo/demo-env.js';

const INPUTS = {
  dingtalkBase: 'http://127.0.0.1:5050',
  appKey: 'dingdemo0appkey0notreal',
  appSecret: 'demo-secret-value',
  storage: 'sqlite://./data/demo/demo.sqlite',
  host: '127.0.0.1',
};

describe('demo settings (variables only npm run demo reads)', () => {
  it('defaults to the page on 127.0.0.1:5050', () => {
    expect(loadDemoSettings({})).toEqual({ port: 5050, host: '127.0.0.1' });
    expect(loadDemoSettings({ DEMO_PORT: '0', DEMO_HOST: '0.0.0.0' })).toEqual({ port: 0, host: '0.0.0.0' });
  });

  it('names the variable when it is wrong', () => {
    expect(() => loadDemoSettings({ DEMO_PORT: 'fifty' })).toThrow(DemoConfigError);
    expect(() => loadDemoSettings({ DEMO_PORT: '70000' })).toThrow(/DEMO_PORT must be at most 65535/);
  });
});

describe('which model answers in the demo', () => {
  it('is the demo backend when no model is configured (a copied .env.example has empty values)', () => {
    expect(demoModelOf({})).toMatchObject({ kind: 'demo' });
    expect(demoModelOf({ ASSISTANT_BACKEND: 'openai', OPENAI_BASE_URL: '', OPENAI_API_KEY: ' ', OPENAI_MODEL: '' })).toMatchObject({ kind: 'demo' });
    expect(demoModelOf({ ASSISTANT_BACKEND: 'dify' })).toMatchObject({ kind: 'demo' });
  });

  it('is the configured model once the user started configuring one', () => {
    expect(demoModelOf({ OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1' })).toEqual({ kind: 'configured' });
    expect(demoModelOf({ ASSISTANT_BACKEND: 'dify', DIFY_API_KEY: 'app-x' })).toEqual({ kind: 'configured' });
  });

  it('is the demo backend for the DingTalk assistant, which needs the real DingTalk', () => {
    expect(demoModelOf({ ASSISTANT_BACKEND: 'dingtalk-assistant', AI_ASSISTANT_ID: 'a'.repeat(32) })).toMatchObject({
      kind: 'demo',
      reason: expect.stringContaining('dingtalk-assistant'),
    });
  });
});

describe('the service environment in the demo', () => {
  it('points DingTalk at the simulator with made-up credentials, the demo storage and no allow-lists', () => {
    const env = {
      DING_APP_KEY: 'dingREALkey',
      DING_APP_SECRET: 'real-secret',
      DINGTALK_API_BASE: 'https://api.dingtalk.com',
      SESSION_STORAGE: 'sqlite://./data/sessions.sqlite',
      STREAM_ENABLED: 'false',
      ALLOWED_GROUPS: 'cidSchool',
      ALLOWED_USERS: 'manager1',
      GROUP_SESSION_SCOPE: 'group',
    };
    const out = demoServiceEnv(env, { ...INPUTS, model: demoModelOf(env) });
    const config = loadConfig(out);
    expect(config.dingtalk).toMatchObject({ appKey: INPUTS.appKey, appSecret: INPUTS.appSecret, apiBase: INPUTS.dingtalkBase });
    expect(config.sessions.storage).toBe(INPUTS.storage);
    expect(config.chat).toMatchObject({ streamEnabled: true, allowedGroups: [], allowedUsers: [], groupSessionScope: 'group' });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 5000 });
    expect(config.chat.thinkingNoticeMs).toBe(2_000);
    expect(JSON.stringify(out)).not.toContain('real-secret');
  });

  it('keeps the configured model, and a half-configured one fails naming what is missing', () => {
    const env = { OPENAI_BASE_URL: 'https://api.deepseek.com', OPENAI_API_KEY: 'sk-x', OPENAI_MODEL: 'deepseek-v4-flash', PORT: '6000' };
    const config = loadConfig(demoServiceEnv(env, { ...INPUTS, model: demoModelOf(env) }));
    expect(config.backend).toMatchObject({ kind: 'openai', baseUrl: 'https://api.deepseek.com', model: 'deepseek-v4-flash' });
    expect(config.http.port).toBe(6000);
    const half = { OPENAI_BASE_URL: 'https://api.deepseek.com' };
    expect(() => loadConfig(demoServiceEnv(half, { ...INPUTS, model: demoModelOf(half) }))).toThrow(/OPENAI_API_KEY is required/);
  });

  it('supplies a template id when card mode is asked for without one', () => {
    const out = demoServiceEnv({ DINGTALK_REPLY_MODE: 'card' }, { ...INPUTS, model: { kind: 'demo', reason: 'none' } });
    expect(out.DINGTALK_CARD_TEMPLATE_ID).toMatch(/\.schema$/);
    const own = demoServiceEnv({ DINGTALK_REPLY_MODE: 'card', DINGTALK_CARD_TEMPLATE_ID: 'mine.schema' }, { ...INPUTS, model: { kind: 'demo', reason: 'none' } });
    expect(own.DINGTALK_CARD_TEMPLATE_ID).toBe('mine.schema');
  });
});
