import { crisisReplyText } from '../chat/chat-texts.js';
import type { Logger } from '../logger.js';
import type { Asker } from './asker.js';
import type { CounsellorAlerts } from './counsellor-alerts.js';
import type { PhraseMatcher } from './phrase-matcher.js';
import type { CheckInput, QuestionCheck, Stop } from './question-check.js';

export interface CrisisCheckOptions {
  /** Built-in phrases plus CRISIS_WORDS_FILE. */
  readonly phrases: PhraseMatcher;
  /** CRISIS_REPLY, replacing the built-in caring reply. */
  readonly reply?: string;
  readonly counsellorContact?: string;
  readonly alerts: CounsellorAlerts;
  readonly logger: Logger;
}

/**
 * First of all checks, before quiet hours, quotas or any backend call: a student's message with
 * a crisis phrase never reaches the model; the student gets a fixed caring reply with the
 * counsellor's contact and hotlines, and the counsellors are alerted. Teachers are not checked
 * (they may well ask how to help a student in crisis).
 */
export class CrisisCheck implements QuestionCheck {
  readonly name = 'crisis';

  constructor(private readonly options: CrisisCheckOptions) {}

  appliesTo(asker: Asker): boolean {
    return asker.role === 'student';
  }

  async check({ asker, text, now }: CheckInput): Promise<Stop | undefined> {
    if (!this.options.phrases.matches(text)) return undefined;
    const { alerts, logger } = this.options;
    const log = logger.child({ transport: asker.transport, user: asker.subject });
    // The alert goes out while the reply is sent; the turn waits for both.
    const afterReply = alerts.raise(asker, text, now, log);
    const personal = asker.person !== undefined && alerts.configured;
    return { outcome: 'crisis', reply: this.options.reply ?? crisisReplyText(this.options.counsellorContact, personal), afterReply };
  }
}
