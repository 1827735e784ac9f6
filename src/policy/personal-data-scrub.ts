/** Kinds of personal data removed from questions before they reach a model service. */
export type PersonalDataKind = 'id-card' | 'mobile' | 'email';

export interface ScrubResult {
  /** The text with every personal data item replaced by a placeholder. */
  readonly text: string;
  /** What was removed (each kind once), empty when nothing was. */
  readonly removed: readonly PersonalDataKind[];
}

const PLACEHOLDERS: Record<PersonalDataKind, string> = {
  'id-card': '[身份证号已隐去]',
  mobile: '[手机号已隐去]',
  email: '[邮箱已隐去]',
};

// 18-character resident ID: region, birth date (19xx/20xx), sequence, check character. Not a
// part of a longer run of letters or digits.
const ID_CARD = /(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g;
// Mainland mobile: 1[3-9]x xxxx xxxx, optionally +86 / 86 and spaces or dashes between groups.
const MOBILE = /(?<![\d+])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/**
 * Masks Chinese resident ID numbers (only those whose check character is right, so ordinary
 * long numbers stay), mainland mobile numbers and email addresses. Pure and linear in the text.
 */
export function scrubPersonalData(text: string): ScrubResult {
  const removed = new Set<PersonalDataKind>();
  let out = text;
  // Cheap pre-checks: most questions have no digit run or @ at all.
  if (/\d{11}|\d{3}[-\s]\d{4}/.test(out)) {
    out = out.replace(ID_CARD, (id) => {
      if (!validIdCard(id)) return id;
      removed.add('id-card');
      return PLACEHOLDERS['id-card'];
    });
    out = out.replace(MOBILE, () => {
      removed.add('mobile');
      return PLACEHOLDERS.mobile;
    });
  }
  if (out.includes('@')) {
    out = out.replace(EMAIL, () => {
      removed.add('email');
      return PLACEHOLDERS.email;
    });
  }
  return { text: out, removed: [...removed] };
}

/** ISO 7064 MOD 11-2, as GB 11643 defines the 18th character. */
export function validIdCard(id: string): boolean {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
}
