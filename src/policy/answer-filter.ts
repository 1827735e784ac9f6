import { AssistantError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PhraseMatcher } from './phrase-matcher.js';

/**
 * BLOCKED_WORDS_FILE on one answer: as it streams (before each update reaches the user) and
 * once finished (before it is kept or sent). One per question; the scan of the stream reads
 * only what was added since the last update.
 */
export class AnswerFilter {
  private readonly scanner;

  constructor(
    private readonly blocked: PhraseMatcher,
    private readonly logger: Logger,
  ) {
    this.scanner = blocked.size > 0 ? blocked.scanner() : undefined;
  }

  /**
   * Wraps the streamed-answer callback: text containing a blocked term, or ending in what may
   * become one, is held back (the user keeps seeing the last clean text).
   */
  guard(onText: ((textSoFar: string) => void) | undefined): ((textSoFar: string) => void) | undefined {
    const scanner = this.scanner;
    if (!onText || !scanner) return onText;
    return (textSoFar) => {
      if (scanner.feed(textSoFar) === undefined && !scanner.undecided) onText(textSoFar);
    };
  }

  /** The engine's `screenAnswer`: a `blocked` error when the finished answer has a blocked term. */
  readonly check = (answer: string): AssistantError | undefined => {
    if (!this.scanner) return undefined;
    const term = this.blocked.findIn(answer);
    if (term === undefined) return undefined;
    this.logger.info('answer refused by the blocked-words list', { term });
    return new AssistantError('blocked', 'the answer contains a term of BLOCKED_WORDS_FILE', { upstreamCode: 'blocked_words' });
  };
}
