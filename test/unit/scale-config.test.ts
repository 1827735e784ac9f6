import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { redactRedisUrl, redisUrlPassword } from '../../src/storage/redis/redis-url.js';
import { configProblems } from '../helpers/config-problems.js';

const BASE = { OPENAI_BASE_URL: 'https://api.example.com/v1', OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'm', STREAM_ENABLED: 'false' };


const problemsOf = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

describe('scale configuration (Redis, metrics)', () => {
  it('defaults: SQLite, prefix bridge:, 10 s leases, metrics on without a token', () => {
    const c = loadConfig(BASE);
    expect(c.sessions.storage).toBe('sqlite://./data/sessions.sqlite');
    expect(c.redis).toEqual({ keyPrefix: 'bridge:', leaseMs: 10_000 });
    expect(c.metrics).toEqual({ enabled: true, token: undefined });
  });

  it('accepts redis:// and rediss:// addresses, with or without password and database', () => {
    for (const url of ['redis://localhost:6379/0', 'redis://:pw@10.0.0.5:6380/3', 'rediss://user:pw@redis.school.local:6380', 'redis://127.0.0.1']) {
      expect(loadConfig({ ...BASE, SESSION_STORAGE: url }).sessions.storage).toBe(url);
    }
    const c = loadConfig({ ...BASE, REDIS_KEY_PREFIX: 'school-a:', REDIS_LEASE_SECONDS: '4', METRICS_ENABLED: 'false', METRICS_TOKEN: 'scrape-token-0123456789' });
    expect(c.redis).toEqual({ keyPrefix: 'school-a:', leaseMs: 4_000 });
    expect(c.metrics).toEqual({ enabled: false, token: 'scrape-token-0123456789' });
  });

  it('reports every bad value at once, by name, without repeating a password', () => {
    const problems = problemsOf({
      SESSION_STORAGE: 'postgres://admin:hunter2-db-password@db/x',
      REDIS_KEY_PREFIX: 'has space',
      REDIS_LEASE_SECONDS: '0',
      METRICS_ENABLED: 'sometimes',
      METRICS_TOKEN: 'short',
    });
    for (const name of ['SESSION_STORAGE', 'REDIS_KEY_PREFIX', 'REDIS_LEASE_SECONDS', 'METRICS_ENABLED', 'METRICS_TOKEN']) expect(problems).toContain(name);
    expect(problems).toMatch(/SESSION_STORAGE must be sqlite:\/\/<file>, memory:\/\/ or redis:\/\//);
    expect(problems).not.toContain('hunter2');
    expect(problems).not.toContain('short');
    for (const bad of ['redis://', 'redis://host:6379/not-a-db', 'redis:/host']) expect(problemsOf({ SESSION_STORAGE: bad })).toContain('SESSION_STORAGE');
  });

  it('hides the password of a Redis URL, and hands it to the log redactor', () => {
    expect(redactRedisUrl('redis://:s3cret-pass@10.0.0.5:6379/2')).toBe('redis://:***@10.0.0.5:6379/2');
    expect(redactRedisUrl('rediss://app:s3cret-pass@r.local:6380')).toBe('rediss://***:***@r.local:6380');
    expect(redactRedisUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
    expect(redisUrlPassword('redis://:p%40ss-word@h:1/0')).toBe('p@ss-word');
    expect(redisUrlPassword('redis://h:1/0')).toBeUndefined();
    expect(redisUrlPassword('sqlite://./data/x.sqlite')).toBeUndefined();
  });
});
