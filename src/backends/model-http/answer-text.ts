import { capAnswer, DEFAULT_ANSWER_MAX_CHARS, overLimit } from '../answer-limit.js';
import { ThinkTagFilter } from './think-tag-filter.js';

/**
 * The answer as it streams in, cleaned of `<think>` reasoning, reported to `onText` each time
 * the cleaned text changes (it grows, or starts over after a whole-answer replacement). Past
 * `maxChars` (ANSWER_MAX_CHARS) it stops growing: later deltas are dropped and the text ends
 * with a note that it was cut, so an answer that never ends cannot fill the heap.
 */
export class AnswerText {
  private filter = new ThinkTagFilter();
  private reported = '';
  private full = false;

  constructor(
    private readonly onText: ((textSoFar: string) => void) | undefined,
    private readonly maxChars: number = DEFAULT_ANSWER_MAX_CHARS,
  ) {}

  get text(): string {
    return capAnswer(this.filter.visible, this.maxChars);
  }

  /** True once the answer reached the limit (the rest of the stream is not kept). */
  get cut(): boolean {
    return this.full;
  }

  append(delta: string): void {
    if (delta === '' || this.full) return;
    this.filter.push(delta);
    this.noteLimit();
    this.report();
  }

  /** Replaces everything so far (a vendor's moderation preset, for instance). */
  replace(text: string): void {
    this.filter = new ThinkTagFilter();
    this.filter.push(text);
    this.full = false;
    this.noteLimit();
    this.report();
  }

  /** Ends the text: a trailing partial tag is resolved. Returns the whole cleaned answer. */
  finish(): string {
    if (!this.full) this.filter.end();
    this.report();
    return this.text;
  }

  private noteLimit(): void {
    if (overLimit(this.filter.visible, this.maxChars)) this.full = true;
  }

  private report(): void {
    const now = this.text;
    if (now === this.reported) return;
    this.reported = now;
    try {
      this.onText?.(now);
    } catch {
      // A failing listener (a card update) must not lose the answer.
    }
  }
}
