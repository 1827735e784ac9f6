import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpHarness, type HttpHarness } from '../helpers/http-harness.js';

/** Generated bodies thrown at the real server: never a 5xx, always JSON, code 0 only with 200. */
describe('POST /assistant/ask under generated input', () => {
  let h: HttpHarness;
  beforeAll(async () => {
    h = await startHttpHarness({ RATE_LIMIT: '100000/minute' });
  });
  afterAll(() => h.close());

  const jsonish = fc.oneof(
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.record({ question: fc.anything(), sessionId: fc.anything() }, { requiredKeys: [] }).map((v) => {
      try {
        return JSON.stringify(v) ?? '';
      } catch {
        return '{}';
      }
    }),
    fc.record({ question: fc.string({ unit: 'binary', maxLength: 300 }), sessionId: fc.option(fc.uuid()) }).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', '');

  it('never answers 5xx or non-JSON, and code is 0 exactly when the status is 200', async () => {
    await fc.assert(
      fc.asyncProperty(jsonish, contentType, async (body, type) => {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const res = await fetch(`${h.url}/assistant/ask`, { method: 'POST', headers, body });
        const text = await res.text();
        expect(res.status).toBeLessThan(500);
        const parsed = JSON.parse(text) as { code: unknown };
        expect(Number.isInteger(parsed.code)).toBe(true);
        expect(parsed.code === 0).toBe(res.status === 200);
      }),
      { numRuns: 300 },
    );
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
  }, 60_000);
});
