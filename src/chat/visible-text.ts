/**
 * Characters that show nothing: white space, default-ignorable code points (zero-width space
 * and joiners, BOM, Hangul fillers, soft hyphen…) and the blank Braille pattern.
 */
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/gu;

/** True when the text has at least one character a reader can see (a question, not padding). */
export function hasVisibleText(text: string): boolean {
  return text.replace(INVISIBLE, '').length > 0;
}
