import { describe, expect, it } from 'vitest';
import { scrubPersonalData, validIdCard } from '../../src/policy/personal-data-scrub.js';

// A made-up resident ID with a correct check character (GB 11643 MOD 11-2).
const ID = '11010519491231002X';

describe('scrubPersonalData', () => {
  it('masks resident ID numbers with a correct check character only', () => {
    expect(validIdCard(ID)).toBe(true);
    const r = scrubPersonalData(`我的身份证号是${ID}，帮我看看`);
    expect(r.text).toBe('我的身份证号是[身份证号已隐去]，帮我看看');
    expect(r.removed).toEqual(['id-card']);
    expect(scrubPersonalData(`id ${ID.toLowerCase()}`).text).toBe('id [身份证号已隐去]');
    const wrongCheck = '110105194912310021';
    expect(scrubPersonalData(`编号 ${wrongCheck}`).text).toBe(`编号 ${wrongCheck}`);
  });

  it('masks mainland mobile numbers with or without +86 and separators', () => {
    for (const phone of ['13812345678', '+86 138 1234 5678', '86-139-1234-5678', '159 1234 5678']) {
      const r = scrubPersonalData(`call ${phone} please`);
      expect(r.text).toBe('call [手机号已隐去] please');
      expect(r.removed).toEqual(['mobile']);
    }
    expect(scrubPersonalData('12812345678 and 138123456789 and 2^10 = 1024').removed).toEqual([]);
  });

  it('masks email addresses', () => {
    const r = scrubPersonalData('写信给 li.lei+hw@school.edu.cn 或 a_b@x.io');
    expect(r.text).toBe('写信给 [邮箱已隐去] 或 [邮箱已隐去]');
    expect(r.removed).toEqual(['email']);
  });

  it('leaves ordinary questions alone and lists each kind once', () => {
    const q = '1998年的GDP是多少？x@y 不是邮箱，3.14159 也不是电话。';
    expect(scrubPersonalData(q)).toEqual({ text: q, removed: [] });
    const r = scrubPersonalData(`${ID} 13812345678 13912345678 a@b.cn`);
    expect([...r.removed].sort()).toEqual(['email', 'id-card', 'mobile']);
    expect(r.text).not.toMatch(/\d{5}/);
  });
});
