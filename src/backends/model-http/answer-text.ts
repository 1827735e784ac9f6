import { ThinkTagFilter } from './think-tag-filter.js';

/**
 * The answer as it streams in, cleaned of `<think>` reasoning, reported to `onText` each time
 * the cleaned text changes (it grows, or starts over after a whole-answer replacement).
 */
export class AnswerText {
  private filter = new ThinkTagFilter();
  private reported = '';

  constructor(private readonly onText: ((textSoFar: string) => void) | undefined) {}

  get text(): string {
    return this.filter.visible;
  }

  append(delta: string): void {
    if (delta === '') return;
    this.filter.push(delta);
    this.report();
  }

  /** Replaces everything so far (a vendor's moderation preset, for instance). */
  replace(text: string): void {
    this.filter = new ThinkTagFilter();
    this.filter.push(text);
    this.report();
  }

  /** Ends the text: a trailing partial tag is resolved. Returns the whole cleaned answer. */
  finish(): string {
    this.filter.end();
    this.report();
    return this.text;
  }

  private report(): void {
    const now = this.filter.visible;
    if (now === this.reported) return;
    this.reported = now;
    try {
      this.onText?.(now);
    } catch {
      // A failing listener (a card update) must not lose the answer.
    }
  }
}
