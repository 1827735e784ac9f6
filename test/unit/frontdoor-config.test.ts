import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { configProblems } from '../helpers/config-problems.js';

const BASE = {
  OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  OPENAI_API_KEY: 'sk-test',
  OPENAI_MODEL: 'qwen-plus',
  STREAM_ENABLED: 'false',
};

describe('front-door configuration', () => {
  it('defaults: chat page on, log format left to the terminal check, 14 days of log files', () => {
    const c = loadConfig(BASE);
    expect(c.webChat.enabled).toBe(true);
    expect(c.log.format).toBeUndefined();
    expect(c.log.retentionDays).toBe(14);
  });

  it('reads WEB_CHAT_ENABLED, LOG_FORMAT and LOG_RETENTION_DAYS', () => {
    const c = loadConfig({ ...BASE, WEB_CHAT_ENABLED: 'off', LOG_FORMAT: ' Pretty ', LOG_RETENTION_DAYS: '30' });
    expect(c.webChat.enabled).toBe(false);
    expect(c.log).toMatchObject({ format: 'pretty', retentionDays: 30 });
  });

  it('names each bad value', () => {
    const problems = configProblems({ ...BASE, WEB_CHAT_ENABLED: 'maybe', LOG_FORMAT: 'xml', LOG_RETENTION_DAYS: '0' });
    expect(problems).toMatch(/WEB_CHAT_ENABLED must be true or false/);
    expect(problems).toMatch(/LOG_FORMAT must be json or pretty/);
    expect(problems).toMatch(/LOG_RETENTION_DAYS must be at least 1/);
  });
});
