import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { checkingIntervalMs, serverOptions } from '../../src/transports/http/server-limits.js';
import { trustProxyOption } from '../../src/transports/http/http-app.js';
import { configProblems } from '../helpers/config-problems.js';

const BASE = {
  OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  OPENAI_API_KEY: 'sk-test',
  OPENAI_MODEL: 'qwen-plus',
  STREAM_ENABLED: 'false',
};


const problemsOf = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

describe('hardening configuration', () => {
  it('defaults: 10 s for a request, 5 s idle keep-alive, 1000 connections, 600 other requests a minute, 50 % / 25 % run shares', () => {
    const c = loadConfig(BASE);
    expect(c.hardening).toEqual({
      requestTimeoutMs: 10_000,
      keepAliveMs: 5_000,
      maxConnections: 1_000,
      otherRateLimit: { max: 600, windowMs: 60_000 },
      runShares: { chat: 50, api: 25 },
    });
    expect(c.http.trustProxy).toBe(false);
  });

  it('TRUST_PROXY=true is refused with what to write instead', () => {
    for (const value of ['true', 'TRUE', 'yes', '*']) {
      const problems = problemsOf({ TRUST_PROXY: value });
      expect(problems).toMatch(/TRUST_PROXY must not be/);
      expect(problems).toContain('number of proxies');
      expect(problems).toContain('addresses');
    }
  });

  it('TRUST_PROXY takes a hop count or proxy addresses and CIDRs, and nothing that trusts the whole internet', () => {
    expect(loadConfig({ ...BASE, TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(loadConfig({ ...BASE, TRUST_PROXY: 'false' }).http.trustProxy).toBe(false);
    expect(loadConfig({ ...BASE, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }).http.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    for (const bad of ['0.0.0.0/0', '::/0', 'nginx', '10.0.0.0/33', '1.2.3', '99']) expect(problemsOf({ TRUST_PROXY: bad })).toContain('TRUST_PROXY');
  });

  it('a hop count trusts that many proxies from the socket, so the client is read from the right of X-Forwarded-For', () => {
    const trust = trustProxyOption(1) as (address: string, hop: number) => boolean;
    expect(trust('127.0.0.1', 0)).toBe(true); // the proxy itself
    expect(trust('203.0.113.7', 1)).toBe(false); // what the proxy says the client is
    expect(trustProxyOption(false)).toBe(false);
    expect(trustProxyOption(['10.0.0.0/8'])).toEqual(['10.0.0.0/8']);
  });

  it('refuses run shares that add up to more than all the runs', () => {
    expect(problemsOf({ CHAT_RUN_SHARE: '80', HTTP_RUN_SHARE: '30' })).toMatch(/CHAT_RUN_SHARE and HTTP_RUN_SHARE together must be at most 100/);
    expect(problemsOf({ HTTP_MAX_CONNECTIONS: '5', HTTP_REQUEST_TIMEOUT_SECONDS: '0' })).toMatch(/HTTP_MAX_CONNECTIONS[\s\S]*HTTP_REQUEST_TIMEOUT_SECONDS|HTTP_REQUEST_TIMEOUT_SECONDS[\s\S]*HTTP_MAX_CONNECTIONS/);
  });

  it('with the defaults a stalled request is closed well within 30 s: Node checks the timeouts every second, not every 30 s', () => {
    const options = serverOptions(loadConfig(BASE).hardening);
    const interval = options.http.connectionsCheckingInterval!;
    expect(interval).toBeLessThanOrEqual(1_000);
    expect(options.requestTimeout + interval).toBeLessThan(30_000);
    expect(options.http.headersTimeout).toBeLessThanOrEqual(options.requestTimeout);
    expect(checkingIntervalMs(1_000)).toBe(250);
  });
});
