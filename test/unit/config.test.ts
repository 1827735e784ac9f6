import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/config.js';

const REQUIRED = { DING_APP_KEY: 'key', DING_APP_SECRET: 'secret', AI_ASSISTANT_ID: 'a'.repeat(32) };

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(REQUIRED);
    expect(c.dingtalk.apiBase).toBe('https://api.dingtalk.com');
    expect(c.http).toMatchObject({ port: 5000, host: '0.0.0.0', corsOrigins: '*', apiKeys: [], trustProxy: false });
    expect(c.http.rateLimit).toEqual({ max: 50, windowMs: 60_000 });
    expect(c.sessions).toEqual({ storage: 'sqlite://./data/sessions.sqlite', ttlMs: 30 * 60_000 });
    expect(c.assistant).toMatchObject({ answerTimeoutMs: 30_000, streaming: true });
    expect(c.chat).toMatchObject({ streamEnabled: true, groupSessionScope: 'member', thinkingNoticeMs: 5000 });
    expect(c.chat.userRateLimit).toEqual({ max: 20, windowMs: 60_000 });
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', RATE_LIMIT: '5 per day', STREAM_ENABLED: 'maybe', DINGTALK_API_BASE: 'ftp://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['DING_APP_KEY', 'DING_APP_SECRET', 'AI_ASSISTANT_ID', 'PORT', 'RATE_LIMIT', 'STREAM_ENABLED', 'DINGTALK_API_BASE']) {
      expect(problems).toContain(name);
    }
  });

  it('never puts secret values in its error message', () => {
    try {
      loadConfig({ ...REQUIRED, DING_APP_SECRET: 'topsecret-value', PORT: 'x' });
    } catch (e) {
      expect(String(e)).not.toContain('topsecret-value');
    }
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
