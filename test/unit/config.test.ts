import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config.js';
import { configProblems } from '../helpers/config-problems.js';

const OPENAI = { OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1', OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'qwen-plus' };
const REQUIRED = { DING_APP_KEY: 'key', DING_APP_SECRET: 'secret', ...OPENAI };


const problemsOf = configProblems;

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(REQUIRED);
    expect(c.dingtalk.apiBase).toBe('https://api.dingtalk.com');
    expect(c.http).toMatchObject({ port: 5000, host: '0.0.0.0', corsOrigins: '*', apiKeys: [], trustProxy: false });
    expect(c.http.rateLimit).toEqual({ max: 50, windowMs: 60_000 });
    expect(c.sessions).toEqual({ storage: 'sqlite://./data/sessions.sqlite', ttlMs: 30 * 60_000 });
    expect(c.assistant).toMatchObject({ answerTimeoutMs: 30_000, maxConcurrentRuns: 20, queueLimit: 5 });
    expect(c.backend).toMatchObject({ kind: 'openai', model: 'qwen-plus', extraBody: {}, historyMaxTurns: 10, historyMaxChars: 12_000 });
    expect(c.backend.kind === 'openai' && c.backend.systemPrompt).toMatch(/学校|school/);
    expect(c.chat).toMatchObject({ streamEnabled: true, groupSessionScope: 'member', thinkingNoticeMs: 5000 });
    expect(c.chat.userRateLimit).toEqual({ max: 20, windowMs: 60_000 });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ PORT: 'eighty', RATE_LIMIT: '5 per day', STREAM_ENABLED: 'maybe', DINGTALK_API_BASE: 'ftp://x' });
    for (const name of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'OPENAI_MODEL', 'DING_APP_KEY', 'DING_APP_SECRET', 'PORT', 'RATE_LIMIT', 'STREAM_ENABLED', 'DINGTALK_API_BASE']) {
      expect(problems).toContain(name);
    }
  });

  it('an HTTP-only OpenAI service needs no DingTalk app at all', () => {
    const c = loadConfig({ ...OPENAI, STREAM_ENABLED: 'false' });
    expect(c.dingtalk.appKey).toBe('');
    expect(c.chat.streamEnabled).toBe(false);
    expect(c.backend.kind).toBe('openai');
  });

  it('asks for DingTalk credentials when the Stream bot is on, and the assistant id only for dingtalk-assistant', () => {
    expect(problemsOf({ ...OPENAI })).toMatch(/DING_APP_KEY is required when the Stream bot is on/);
    expect(problemsOf({ ...OPENAI })).not.toContain('AI_ASSISTANT_ID');
    const p = problemsOf({ ASSISTANT_BACKEND: 'dingtalk-assistant', STREAM_ENABLED: 'false' });
    expect(p).toMatch(/AI_ASSISTANT_ID is required when ASSISTANT_BACKEND=dingtalk-assistant/);
    expect(p).toMatch(/DING_APP_SECRET is required when ASSISTANT_BACKEND=dingtalk-assistant/);
    expect(p).not.toContain('OPENAI');
    const c = loadConfig({ ASSISTANT_BACKEND: 'dingtalk-assistant', DING_APP_KEY: 'k', DING_APP_SECRET: 's', AI_ASSISTANT_ID: 'a'.repeat(32) });
    expect(c.backend).toEqual({ kind: 'dingtalk-assistant', assistantId: 'a'.repeat(32), streaming: true });
  });

  it('needs the Dify base URL and key for dify, and nothing of OpenAI', () => {
    const p = problemsOf({ ASSISTANT_BACKEND: 'dify', STREAM_ENABLED: 'false' });
    expect(p).toContain('DIFY_BASE_URL');
    expect(p).toContain('DIFY_API_KEY');
    expect(p).not.toContain('OPENAI');
    const c = loadConfig({ ASSISTANT_BACKEND: 'Dify', STREAM_ENABLED: 'false', DIFY_BASE_URL: 'https://api.dify.ai/v1/', DIFY_API_KEY: 'app-x' });
    expect(c.backend).toEqual({ kind: 'dify', baseUrl: 'https://api.dify.ai/v1', apiKey: 'app-x' });
  });

  it('refuses an unknown backend and an OPENAI_EXTRA_BODY that is not a JSON object', () => {
    expect(problemsOf({ ...REQUIRED, ASSISTANT_BACKEND: 'gpt' })).toMatch(/ASSISTANT_BACKEND must be openai, dify or dingtalk-assistant/);
    for (const bad of ['{enable_thinking:false}', '[1]', '"x"']) {
      expect(problemsOf({ ...REQUIRED, OPENAI_EXTRA_BODY: bad })).toMatch(/OPENAI_EXTRA_BODY must be a JSON object/);
    }
    const c = loadConfig({ ...REQUIRED, OPENAI_EXTRA_BODY: '{"thinking":{"type":"disabled"}}' });
    expect(c.backend.kind === 'openai' && c.backend.extraBody).toEqual({ thinking: { type: 'disabled' } });
  });

  it('takes CONVERSATION_QUEUE_LIMIT, and the old CHAT_QUEUE_LIMIT name when it is not set', () => {
    expect(loadConfig({ ...REQUIRED, CHAT_QUEUE_LIMIT: '7' }).assistant.queueLimit).toBe(7);
    expect(loadConfig({ ...REQUIRED, CHAT_QUEUE_LIMIT: '7', CONVERSATION_QUEUE_LIMIT: '3' }).assistant.queueLimit).toBe(3);
    expect(problemsOf({ ...REQUIRED, CONVERSATION_QUEUE_LIMIT: '0' })).toMatch(/CONVERSATION_QUEUE_LIMIT must be at least 1/);
  });

  it('never puts secret values in its error message', () => {
    const problems = problemsOf({ ...REQUIRED, DING_APP_SECRET: 'topsecret-value', OPENAI_API_KEY: 'sk-topsecret', PORT: 'x' });
    expect(problems).toContain('PORT');
    expect(problems).not.toContain('topsecret');
  });

  it('parses lists, origins and a trailing slash on the API base', () => {
    const c = loadConfig({
      ...REQUIRED,
      CORS_ORIGINS: 'https://a.example, https://b.example',
      ASK_API_KEYS: 'k1, k2,,',
      DINGTALK_API_BASE: 'http://127.0.0.1:9000/',
      RATE_LIMIT: '10/second',
      GROUP_SESSION_SCOPE: 'GROUP',
    });
    expect(c.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.http.apiKeys).toEqual(['k1', 'k2']);
    expect(c.dingtalk.apiBase).toBe('http://127.0.0.1:9000');
    expect(c.http.rateLimit).toEqual({ max: 10, windowMs: 1000 });
    expect(c.chat.groupSessionScope).toBe('group');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ ...REQUIRED, PORT: '', LOG_FILE: '' }).http.port).toBe(5000);
  });
});

describe('configuration docs', () => {
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('.env.example and README list exactly the variables the service reads', () => {
    const inExample = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(new Set(inExample)).toEqual(new Set(CONFIG_VARIABLES));
    for (const name of CONFIG_VARIABLES) expect(readme).toContain(`\`${name}\``);
  });
});
