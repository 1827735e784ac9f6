import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/backends/model-http/backoff-delay.js';
import { parseRetryAfter, retryAfterMs } from '../../src/backends/model-http/retry-after.js';

describe('Retry-After', () => {
  it('reads seconds', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    expect(parseRetryAfter('0')).toBe(0);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:03 GMT', now)).toBe(3_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
  });

  it.each([undefined, '', '  ', 'soon', '-3'])('ignores %j', (value) => {
    expect(parseRetryAfter(value)).toBeUndefined();
  });

  it('prefers retry-after-ms, then Retry-After; arrays and numbers are read', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' })).toBe(250);
    expect(retryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '9' })).toBe(9_000);
    expect(retryAfterMs({ 'retry-after': ['3'] })).toBe(3_000);
    expect(retryAfterMs({ 'retry-after-ms': 40 })).toBe(40);
    expect(retryAfterMs({})).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('doubles from 0.5 s up to 8 s with at most 25 % jitter below', () => {
    expect(backoffDelay(1, undefined, () => 1)).toBe(500);
    expect(backoffDelay(1, undefined, () => 0)).toBe(375);
    expect(backoffDelay(2, undefined, () => 1)).toBe(1_000);
    expect(backoffDelay(10, undefined, () => 1)).toBe(8_000);
    expect(backoffDelay(10, undefined, () => 0)).toBe(6_000);
  });

  it('waits at least what the server asked, plus a little jitter', () => {
    expect(backoffDelay(1, 1_000, () => 0)).toBe(1_000);
    expect(backoffDelay(1, 1_000, () => 1)).toBe(1_150);
    expect(backoffDelay(3, 20_000, () => 1)).toBe(20_250);
    expect(backoffDelay(1, 0, () => 0.5)).toBe(25);
  });
});
