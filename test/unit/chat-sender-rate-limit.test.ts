import { describe, expect, it } from 'vitest';
import { SenderRateLimit } from '../../src/chat/sender-rate-limit.js';

describe('SenderRateLimit', () => {
  it('allows max messages per window per sender, warns once, then refuses quietly', () => {
    let now = 0;
    const limit = new SenderRateLimit({ max: 2, windowMs: 60_000 }, () => now);
    expect(['a', 'a', 'a', 'a'].map((s) => limit.check(s))).toEqual(['allowed', 'allowed', 'limited', 'limited-quietly']);
    expect(limit.check('b')).toBe('allowed'); // other senders are not affected
    now = 60_001;
    expect(limit.check('a')).toBe('allowed'); // the window slid on
  });

  it('forgets idle senders, so months of traffic from thousands of students stay bounded', () => {
    let now = 0;
    const limit = new SenderRateLimit({ max: 5, windowMs: 1_000 }, () => now);
    for (let i = 0; i < 5_000; i++) limit.check(`old-${i}`);
    now = 10_000;
    for (let i = 0; i < 1_500; i++) limit.check(`new-${i}`);
    expect(limit.trackedSenders).toBeLessThan(2_000);
  });
});
