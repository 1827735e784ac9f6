import type { ErrorName } from '../../errors.js';
import type { QuestionOutcome } from '../../metrics/bridge-metrics.js';

/** How an `/assistant/ask` request ended, by its catalogue entry (none: answered). */
export function askOutcome(error: ErrorName | undefined): QuestionOutcome {
  switch (error) {
    case undefined:
      return 'answered';
    case 'ANSWER_TIMEOUT':
      return 'timeout';
    case 'BUSY':
      return 'busy';
    case 'QUESTION_REFUSED':
      return 'blocked';
    case 'RATE_LIMITED':
      return 'rate_limited';
    case 'SERVICE_UNAVAILABLE':
      return 'unavailable';
    case 'UNAUTHORIZED':
      return 'unauthorized';
    case 'ASSISTANT_FAILED':
    case 'INTERNAL':
      return 'failed';
    default:
      return 'invalid'; // refused before reaching the assistant (bad body, type, size)
  }
}
