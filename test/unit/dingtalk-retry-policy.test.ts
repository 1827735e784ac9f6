import { describe, expect, it } from 'vitest';
import { DingTalkApiError, DingTalkNetworkError } from '../../src/dingtalk/dingtalk-api.js';
import { backoffDelay, classifyDingTalkError } from '../../src/backends/dingtalk-assistant/retry-policy.js';
import { toDingTalkApiError, toDingTalkNetworkError } from '../../src/dingtalk/dingtalk-http-errors.js';
import { AssistantError } from '../../src/errors.js';

const api = (status: number, code: string, extra?: { retryAfterMs?: number }) =>
  new DingTalkApiError(status, code, 'msg', extra);
const net = (code: string, timedOut = false) =>
  new DingTalkNetworkError('x', { cause: Object.assign(new Error(code), { code }), timedOut });

describe('classifyDingTalkError', () => {
  it.each([
    // Business errors are all HTTP 500: the code decides.
    [api(500, 'thread.not.exist'), 'conversation_missing', 'never', false],
    [api(500, 'message.role.error'), 'rejected', 'never', false],
    [api(500, 'message.not.user'), 'rejected', 'never', false],
    [api(500, 'run.lastmessage.invalid'), 'rejected', 'never', false],
    [api(500, 'run.assistantparam.error'), 'rejected', 'never', false],
    [api(500, 'run.params.error'), 'rejected', 'never', false],
    [api(500, 'message.limit.invalid'), 'rejected', 'never', false],
    [api(500, 'run.not.exist'), 'rejected', 'never', false],
    [api(500, 'run.accesstoken.error'), 'auth', 'never', false],
    [api(500, 'run.token.error'), 'auth', 'never', false],
    [api(500, 'system.error'), 'unavailable', 'transient', false],
    [api(500, 'thread.system.error'), 'unavailable', 'transient', false],
    [api(500, 'message.create.exception'), 'unavailable', 'transient', false],
    [api(500, 'run.create.throwable'), 'unavailable', 'transient', false],
    [api(500, 'some.unknown.code'), 'unavailable', 'never', false],
    // Plain 5xx without a code: retryable but the call may have landed.
    [api(500, ''), 'unavailable', 'transient', true],
    [api(502, ''), 'unavailable', 'transient', true],
    [api(503, ''), 'unavailable', 'transient', true],
    [api(504, ''), 'unavailable', 'transient', true],
    // Gateway errors.
    [api(400, 'InvalidAuthentication'), 'auth', 'never', false],
    [api(400, 'AuthenticationFailed.MissingParameter'), 'auth', 'never', false],
    [api(403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied'), 'auth', 'never', false],
    [api(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi'), 'rate_limited', 'throttled', false],
    [api(403, 'Forbidden.AccessDenied.QpsLimitForApi'), 'rate_limited', 'throttled', false],
    [api(403, 'ThrottledByIp'), 'rate_limited', 'throttled', false],
    [api(403, 'Forbidden.AccessDenied.ApiCountLimitForOrg'), 'rate_limited', 'never', false],
    [api(403, 'Forbidden.Other'), 'auth', 'never', false],
    [api(429, ''), 'rate_limited', 'throttled', false],
    [api(400, 'invalid.param'), 'rejected', 'never', false],
    [api(404, ''), 'rejected', 'never', false],
    // No answer at all.
    [net('ECONNREFUSED'), 'unavailable', 'transient', false],
    [net('ENOTFOUND'), 'unavailable', 'transient', false],
    [net('ECONNRESET'), 'unavailable', 'transient', true],
    [net('ERR_CANCELED', true), 'timeout', 'transient', true],
    [new DingTalkNetworkError('no cause'), 'unavailable', 'transient', true],
    [new AssistantError('cancelled', 'x'), 'cancelled', 'never', false],
    [new TypeError('bug'), 'unavailable', 'never', false],
  ] as const)('%s → %s / %s / ambiguous=%s', (err, kind, retry, ambiguous) => {
    const v = classifyDingTalkError(err);
    expect(v).toMatchObject({ kind, retry, ambiguous });
  });
});

describe('backoffDelay', () => {
  const transient = classifyDingTalkError(api(500, 'system.error'));
  const throttled = classifyDingTalkError(api(403, 'Forbidden.AccessDenied.QpsLimitForApi', { retryAfterMs: 3000 }));

  it('grows exponentially with jitter and is capped', () => {
    expect(backoffDelay(1, transient, () => 0)).toBe(100);
    expect(backoffDelay(1, transient, () => 1)).toBe(200);
    expect(backoffDelay(3, transient, () => 0)).toBe(400);
    expect(backoffDelay(20, transient, () => 1)).toBe(2000);
  });

  it('waits at least what DingTalk asked when throttled', () => {
    expect(backoffDelay(1, throttled, () => 0)).toBe(3000);
    expect(backoffDelay(1, classifyDingTalkError(api(403, 'Forbidden.AccessDenied.QpsLimitForApi')), () => 0)).toBe(500);
  });
});

describe('error mapping of answers', () => {
  it('reads DingTalk error bodies (lowercase requestid)', () => {
    const e = toDingTalkApiError(500, {}, { code: 'thread.not.exist', requestid: 'r1', message: '线程不存在' });
    expect(e).toMatchObject({ status: 500, code: 'thread.not.exist', requestId: 'r1' });
  });

  it('maps the per-IP throttle body to a throttle with its wait', () => {
    const e = toDingTalkApiError(403, {}, '{"status":1111,"wait":5,"msg":"ip limited"}');
    expect(e).toMatchObject({ code: 'ThrottledByIp', retryAfterMs: 5000 });
    expect(classifyDingTalkError(e).retry).toBe('throttled');
  });

  it('honours Retry-After and tolerates bodies that are not JSON', () => {
    const e = toDingTalkApiError(503, { 'retry-after': '2' }, '<html>bad gateway</html>');
    expect(e).toMatchObject({ status: 503, code: '', retryAfterMs: 2000 });
  });

  it('keeps only the socket code of a network failure', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', config: { headers: { token: 'secret' } } });
    const e = toDingTalkNetworkError(cause, false, 'POST /x failed');
    expect((e.cause as { code: string }).code).toBe('ECONNREFUSED');
    expect(JSON.stringify(e.cause)).not.toContain('secret');
  });
});
