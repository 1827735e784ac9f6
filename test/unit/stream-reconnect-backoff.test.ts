import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, reconnectDelay } from '../../src/transports/dingtalk-stream/reconnect-backoff.js';

describe('reconnectDelay', () => {
  it('grows from 1 s, adds up to 1 s of jitter and caps at 60 s', () => {
    expect(reconnectDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(1_000);
    expect(reconnectDelay(0, DEFAULT_BACKOFF, () => 0.999)).toBe(1_999);
    expect(reconnectDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(8_000);
    expect(reconnectDelay(6, DEFAULT_BACKOFF, () => 0.5)).toBe(60_000);
    expect(reconnectDelay(10_000, DEFAULT_BACKOFF, () => 1)).toBe(60_000);
  });
});
