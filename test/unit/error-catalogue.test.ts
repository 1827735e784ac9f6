import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

describe('error catalogue', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  // README rows look like: | 40001 | 400 | INVALID_JSON | ... |
  const documented = [...readme.matchAll(/^\|\s*(\d{5})\s*\|\s*(\d{3})\s*\|\s*`?([A-Z_]+)`?\s*\|/gm)].map((m) => ({
    code: Number(m[1]),
    status: Number(m[2]),
    name: m[3],
  }));

  it('README documents every code with its status, and nothing else', () => {
    const expected = Object.entries(ERRORS).map(([name, spec]) => ({ code: spec.code, status: spec.status, name }));
    expect(documented.sort((a, b) => a.code - b.code)).toEqual(expected.sort((a, b) => a.code - b.code));
  });

  it('codes are unique and their first three digits are the HTTP status', () => {
    const codes = Object.values(ERRORS).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const spec of Object.values(ERRORS)) expect(Math.floor(spec.code / 100)).toBe(spec.status);
  });
});
