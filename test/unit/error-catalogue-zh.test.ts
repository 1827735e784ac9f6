import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

describe('error catalogue, Chinese', () => {
  it('every entry has a Chinese sentence for people (the web chat page shows it)', () => {
    for (const [name, spec] of Object.entries(ERRORS)) {
      expect(spec.zh, name).toMatch(/[\u4e00-\u9fff]/);
      expect(spec.zh, name).toMatch(/。$/);
      expect(spec.zh, name).not.toBe(spec.message);
    }
  });
});
