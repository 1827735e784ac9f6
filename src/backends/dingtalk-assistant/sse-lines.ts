/** DingTalk's events are one JSON line each; a longer line is a broken stream, not an answer. */
export const MAX_LINE_CHARS = 1024 * 1024;

/**
 * Feeds SSE text to a parser line by line, adding the blank line between events when the
 * server leaves it out: DingTalk's documented sample puts `event:` right after the previous
 * `data:` line, which a standard parser would merge into one event. A `data:` line holding a
 * whole JSON value (DingTalk's are one line each) is dispatched at once, so the run id and the
 * final event are not held back until the next line arrives.
 */
export class SseLineSplitter {
  private partial = '';
  private sawData = false;

  constructor(private readonly feed: (text: string) => void) {}

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE_CHARS) {
      this.partial = '';
      throw new Error(`an SSE line is longer than ${MAX_LINE_CHARS} characters`);
    }
    for (const raw of lines) this.line(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  }

  /** Flushes what is left, as if the stream had ended with a blank line. */
  end(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    this.feed('\n');
  }

  private line(line: string): void {
    if (/^event\s*:/.test(line) && this.sawData) this.feed('\n');
    this.feed(`${line}\n`);
    const data = /^data(?::\s?(.*))?$/.exec(line);
    if (data) this.sawData = true;
    else if (line === '') this.sawData = false;
    if (data && isWholeJson(data[1] ?? '')) {
      this.feed('\n');
      this.sawData = false;
    }
  }
}

function isWholeJson(text: string): boolean {
  const t = text.trim();
  if (t === '[DONE]') return true;
  if (!t.startsWith('{') && !t.startsWith('[')) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}
