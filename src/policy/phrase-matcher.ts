/**
 * Finds any of many phrases in a text in one pass (an Aho–Corasick automaton over code points),
 * so a list of a thousand blocked words costs one walk over the text, not a thousand searches.
 *
 * Text and phrases are compared after the same normalisation: full-width and compatibility forms
 * folded (NFKC), letters lower-cased, runs of whitespace read as one space. A phrase that starts
 * or ends with a Latin letter or digit only matches at a word edge there, so "want to die" does
 * not fire on "want to diet"; Chinese phrases match anywhere.
 */
export class PhraseMatcher {
  /** Goto edges per state: code point → next state. */
  private readonly edges: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Phrases (as indexes into `phrases`) that end in each state, following fail links. */
  private readonly output: number[][] = [[]];
  private readonly phrases: Array<{ text: string; length: number; wordStart: boolean; wordEnd: boolean }> = [];

  constructor(phrases: Iterable<string>) {
    for (const phrase of phrases) this.add(phrase);
    this.link();
  }

  /** Phrases in the matcher (after dropping empty and duplicate ones). */
  get size(): number {
    return this.phrases.length;
  }

  /** The first phrase found in `text` (as given to the matcher), or undefined. */
  findIn(text: string): string | undefined {
    const scan = this.scanner();
    return scan.feed(text) ?? scan.finish();
  }

  /** True when `text` contains any phrase. */
  matches(text: string): boolean {
    return this.findIn(text) !== undefined;
  }

  /**
   * An incremental scan for text that grows (a streamed answer): `feed` the whole text so far
   * each time; only what was added since the last call is read. A text that does not continue
   * the previous one (the writer started over) is scanned from the start.
   */
  scanner(): PhraseScanner {
    return new PhraseScanner(this);
  }

  /** @internal One step of the automaton. */
  step(state: number, cp: number): number {
    let s = state;
    for (;;) {
      const next = this.edges[s]!.get(cp);
      if (next !== undefined) return next;
      if (s === 0) return 0;
      s = this.fail[s]!;
    }
  }

  /**
   * @internal The phrase ending at `end` (exclusive) of `seen` in `state` whose word edges hold,
   * given the next character (or -1 when not known yet). 'wait' when a phrase needs the next
   * character to decide its end edge.
   */
  accept(state: number, seen: readonly number[], end: number, next: number): string | 'wait' | undefined {
    let waiting = false;
    for (const index of this.output[state]!) {
      const phrase = this.phrases[index]!;
      const start = end - phrase.length;
      if (phrase.wordStart && start > 0 && isWordChar(seen[start - 1]!)) continue;
      if (phrase.wordEnd) {
        if (next === -1) {
          waiting = true;
          continue;
        }
        if (isWordChar(next)) continue;
      }
      return phrase.text;
    }
    return waiting ? 'wait' : undefined;
  }

  private add(raw: string): void {
    const cps = normalise(raw);
    while (cps.length > 0 && cps[0] === SPACE) cps.shift();
    while (cps.length > 0 && cps.at(-1) === SPACE) cps.pop();
    if (cps.length === 0) return;
    let state = 0;
    for (const cp of cps) {
      let next = this.edges[state]!.get(cp);
      if (next === undefined) {
        next = this.edges.length;
        this.edges.push(new Map());
        this.fail.push(0);
        this.output.push([]);
        this.edges[state]!.set(cp, next);
      }
      state = next;
    }
    if (this.output[state]!.length > 0) return; // the same phrase twice
    this.output[state]!.push(this.phrases.length);
    this.phrases.push({ text: raw.trim(), length: cps.length, wordStart: isWordChar(cps[0]!), wordEnd: isWordChar(cps.at(-1)!) });
  }

  /** Breadth-first: each state's fail link is the longest proper suffix that is also a prefix. */
  private link(): void {
    const queue: number[] = [...this.edges[0]!.values()];
    for (let i = 0; i < queue.length; i++) {
      const state = queue[i]!;
      for (const [cp, next] of this.edges[state]!) {
        queue.push(next);
        let f = this.fail[state]!;
        while (f !== 0 && !this.edges[f]!.has(cp)) f = this.fail[f]!;
        const target = this.edges[f]!.get(cp);
        this.fail[next] = target !== undefined && target !== next ? target : 0;
        this.output[next]!.push(...this.output[this.fail[next]!]!);
      }
    }
  }
}

/** See `PhraseMatcher.scanner`. */
export class PhraseScanner {
  private text = '';
  private state = 0;
  /** The normalised code points read so far (for word-edge checks). */
  private seen: number[] = [];
  /** A match that waits for the next character to confirm its word edge. */
  private pending: { state: number; end: number } | undefined;
  private found: string | undefined;

  constructor(private readonly matcher: PhraseMatcher) {}

  /** The first phrase found in the text so far (sticky once found), or undefined. */
  feed(textSoFar: string): string | undefined {
    if (this.found !== undefined && textSoFar.startsWith(this.text)) return this.found;
    if (!textSoFar.startsWith(this.text)) this.reset();
    const added = textSoFar.slice(this.text.length);
    this.text = textSoFar;
    for (const cp of normalise(added, this.seen.at(-1) === SPACE)) {
      if (this.pending) {
        const verdict = this.matcher.accept(this.pending.state, this.seen, this.pending.end, cp);
        this.pending = undefined;
        if (verdict !== undefined && verdict !== 'wait') return (this.found = verdict);
      }
      this.seen.push(cp);
      this.state = this.matcher.step(this.state, cp);
      const verdict = this.matcher.accept(this.state, this.seen, this.seen.length, -1);
      if (verdict === 'wait') this.pending = { state: this.state, end: this.seen.length };
      else if (verdict !== undefined) return (this.found = verdict);
    }
    return undefined;
  }

  /**
   * True while the text so far ends in a phrase whose word edge depends on what comes next
   * ("…want to die" could become "…want to diet"): not safe to show yet.
   */
  get undecided(): boolean {
    return this.pending !== undefined;
  }

  /** Decides a phrase that waited for a word edge: the text ended right after it. */
  finish(): string | undefined {
    if (this.found !== undefined) return this.found;
    if (!this.pending) return undefined;
    const verdict = this.matcher.accept(this.pending.state, this.seen, this.pending.end, SPACE);
    this.pending = undefined;
    return verdict === 'wait' ? undefined : (this.found = verdict);
  }

  private reset(): void {
    this.text = '';
    this.state = 0;
    this.seen = [];
    this.pending = undefined;
    this.found = undefined;
  }
}

const SPACE = 0x20;

/** Normalised code points of `text`; `afterSpace` continues a run of whitespace. */
function normalise(text: string, afterSpace = false): number[] {
  const out: number[] = [];
  let space = afterSpace;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      if (cp === SPACE || (cp >= 0x09 && cp <= 0x0d)) {
        if (!space) out.push(SPACE);
        space = true;
        continue;
      }
      space = false;
      out.push(cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp);
      continue;
    }
    if (cp >= 0x4e00 && cp <= 0x9fff) {
      space = false;
      out.push(cp); // CJK ideographs are their own normal form: the common case, kept fast
      continue;
    }
    for (const folded of ch.normalize('NFKC').toLowerCase()) {
      const f = folded.codePointAt(0)!;
      if (/\s/u.test(folded)) {
        if (!space) out.push(SPACE);
        space = true;
      } else {
        space = false;
        out.push(f);
      }
    }
  }
  return out;
}

function isWordChar(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f;
}
