const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Removes `<think>…</think>` reasoning from streamed text, also when a tag is split across
 * chunks. An unclosed `<think>` hides everything after it. Some chat templates swallow the
 * opening tag, so when a `</think>` comes before any `<think>`, everything before it was
 * reasoning too and `visible` starts over.
 */
export class ThinkTagFilter {
  private shown = '';
  private pending = '';
  private inside = false;
  private sawTag = false;

  /** The cleaned text so far (leading whitespace left by a removed block is dropped). */
  get visible(): string {
    return this.shown.trimStart();
  }

  push(text: string): void {
    this.pending += text;
    this.scan(false);
  }

  /** The stream ended: a possible partial tag is text after all (or hidden, inside a block). */
  end(): void {
    this.scan(true);
  }

  private scan(final: boolean): void {
    for (;;) {
      if (this.inside) {
        const close = this.pending.indexOf(CLOSE);
        if (close < 0) {
          this.pending = final ? '' : this.pending.slice(this.pending.length - partialTagLength(this.pending, [CLOSE]));
          return;
        }
        this.pending = this.pending.slice(close + CLOSE.length);
        this.inside = false;
        continue;
      }
      const open = this.pending.indexOf(OPEN);
      const close = this.pending.indexOf(CLOSE);
      if (open < 0 && close < 0) {
        const keep = final ? 0 : partialTagLength(this.pending, [OPEN, CLOSE]);
        this.shown += this.pending.slice(0, this.pending.length - keep);
        this.pending = this.pending.slice(this.pending.length - keep);
        return;
      }
      if (open >= 0 && (close < 0 || open < close)) {
        this.shown += this.pending.slice(0, open);
        this.pending = this.pending.slice(open + OPEN.length);
        this.inside = true;
      } else {
        // A closing tag with no opening one: before the first tag it ends swallowed reasoning.
        this.shown = this.sawTag ? this.shown + this.pending.slice(0, close) : '';
        this.pending = this.pending.slice(close + CLOSE.length);
      }
      this.sawTag = true;
    }
  }
}

/** Length of the longest end of `text` that could be the start of one of `tags`. */
function partialTagLength(text: string, tags: readonly string[]): number {
  let best = 0;
  for (const tag of tags) {
    for (let n = Math.min(tag.length - 1, text.length); n > best; n--) {
      if (text.endsWith(tag.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}
