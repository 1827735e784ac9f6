import { CHAT_TEXTS } from '../chat/chat-texts.js';
import type { Logger } from '../logger.js';
import type { Asker } from './asker.js';
import type { PhraseMatcher } from './phrase-matcher.js';
import type { CheckInput, QuestionCheck, Stop } from './question-check.js';

/**
 * BLOCKED_WORDS_FILE on questions: a hit gets the same "cannot answer" as provider moderation
 * (chat: one friendly sentence; HTTP: 422 QUESTION_REFUSED) and never reaches the model.
 */
export class BlockedQuestionCheck implements QuestionCheck {
  readonly name = 'blocked-words';

  constructor(
    private readonly blocked: PhraseMatcher,
    private readonly logger: Logger,
  ) {}

  appliesTo(_asker: Asker): boolean {
    return this.blocked.size > 0;
  }

  async check({ asker, text }: CheckInput): Promise<Stop | undefined> {
    const term = this.blocked.findIn(text);
    if (term === undefined) return undefined;
    this.logger.info('question refused by the blocked-words list', { transport: asker.transport, user: asker.subject, term });
    return { outcome: 'blocked', reply: CHAT_TEXTS.refused };
  }
}
