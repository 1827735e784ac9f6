import { describe, expect, it } from 'vitest';
import { checkStream, STREAM_GRACE_MS } from '../../src/health/stream-check.js';

const BASE = 'https://api.dingtalk.com';
const now = 1_800_000_000_000;

describe('the Stream connection as a health check', () => {
  it('connected is ok; a short reconnect without a failure is not a failure yet', () => {
    expect(checkStream({ state: 'connected', reconnects: 0 }, BASE, now).status).toBe('ok');
    expect(checkStream({ state: 'connecting', reconnects: 3, disconnectedSince: now - 5_000 }, BASE, now).status).toBe('ok');
  });

  it('a reconnect longer than the grace period fails, with how long', () => {
    const r = checkStream({ state: 'connecting', reconnects: 3, disconnectedSince: now - STREAM_GRACE_MS - 15_000 }, BASE, now);
    expect(r.status).toBe('failing');
    expect(r.reason!.en).toBe('the Stream connection has been down for 45 s');
  });

  it('a failed attempt fails at once, by kind: credentials name the variables, refusals the console steps', () => {
    const at = now - 1_000;
    const creds = checkStream({ state: 'connecting', reconnects: 0, lastFailure: { kind: 'credentials', message: 'HTTP 401 authFailed', at } }, BASE, now);
    expect(creds.reason!.en).toMatch(/DING_APP_KEY \/ DING_APP_SECRET/);
    expect(creds.fix!.zh).toMatch(/Client Secret/);
    const refused = checkStream({ state: 'connecting', reconnects: 0, lastFailure: { kind: 'app-not-ready', message: 'HTTP 400 x', at } }, BASE, now);
    expect(refused.reason!.en).toMatch(/unpublished|Stream mode/);
    const down = checkStream({ state: 'connecting', reconnects: 0, lastFailure: { kind: 'unavailable', message: 'ECONNREFUSED', at } }, BASE, now);
    expect(down.reason!.en).toBe(`DingTalk is unreachable at ${BASE} (ECONNREFUSED)`);
  });
});
