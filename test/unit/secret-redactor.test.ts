import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../../src/logger.js';

describe('SecretRedactor', () => {
  it('forgets tokens and tickets once they expire, so its set stays small however long the process runs', () => {
    let now = 1_000_000;
    const redactor = new SecretRedactor(() => now);
    redactor.add('app-secret-value-0123');
    // A week of access tokens (2 h each) and Stream tickets (a reconnect a minute).
    for (let minute = 0; minute < 7 * 24 * 60; minute++) {
      now += 60_000;
      redactor.add(`ticket-${minute}-abcdef`, { expiresAt: now + 90_000 });
      if (minute % 120 === 0) redactor.add(`token-${minute}-abcdef`, { expiresAt: now + 2 * 3_600_000 });
    }
    expect(redactor.size).toBeLessThanOrEqual(6);
    const live = `ticket-${7 * 24 * 60 - 1}-abcdef`;
    expect(redactor.redact(`ws://gw?ticket=${live} key=app-secret-value-0123`)).toBe('ws://gw?ticket=[REDACTED] key=[REDACTED]');
    expect(redactor.redact('ticket-0-abcdef')).toBe('ticket-0-abcdef'); // long expired, no longer a secret
  });

  it('holds at most a bounded number of secrets that have not expired yet, dropping the one expiring first', () => {
    const redactor = new SecretRedactor(() => 0);
    for (let i = 0; i < 10_000; i++) redactor.add(`burst-ticket-${i}`, { expiresAt: 1_000_000 + i });
    expect(redactor.size).toBeLessThanOrEqual(64);
    expect(redactor.redact('burst-ticket-9999')).toBe('[REDACTED]');
  });

  it('never forgets the secrets added without an expiry (app secret, API keys), even when one is added again with one', () => {
    const redactor = new SecretRedactor(() => 0);
    redactor.add('app-secret-value-0123');
    redactor.add('app-secret-value-0123', { expiresAt: 1 });
    for (let i = 0; i < 200; i++) redactor.add(`other-ticket-${i}`, { expiresAt: 10 + i });
    expect(redactor.redact('app-secret-value-0123')).toBe('[REDACTED]');
  });
});
