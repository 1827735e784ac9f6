import type { AskInput, AssistantBackend, BackendAnswer, BackendState, ForgetOptions } from '../../src/backends/assistant-backend.js';
import { AssistantError } from '../../src/errors.js';

/** One question as the backend received it. */
export interface RecordedAsk {
  readonly text: string;
  readonly user: string;
  readonly systemPrompt?: string;
  readonly role?: string;
  /** The history the conversation's state carried in (earlier questions and answers). */
  readonly history: ReadonlyArray<{ q: string; a: string }>;
}

/**
 * A backend that keeps the whole history in its state, as the OpenAI-compatible backend does
 * (no history upstream, no `forget`), and records what every question carried: text, user,
 * system prompt, role. Answers stream through `onText` in `chunks` pieces. With
 * `upstreamHistory`, it behaves like a backend that keeps history upstream (it has `forget`).
 */
export class RecordingBackend implements AssistantBackend {
  readonly name = 'recording';
  readonly asks: RecordedAsk[] = [];
  readonly forgotten: BackendState[] = [];
  answer: (text: string, history: ReadonlyArray<{ q: string; a: string }>) => string = (text, history) =>
    `answer ${history.length + 1}: ${text}`;
  /** Streamed pieces per answer (1 = the whole answer at once). */
  chunks = 1;
  chunkDelayMs = 0;
  /** The next asks fail with these errors. */
  failures: AssistantError[] = [];
  forget?: (state: BackendState, options: ForgetOptions) => Promise<void>;

  constructor(options: { upstreamHistory?: boolean } = {}) {
    if (options.upstreamHistory) {
      this.forget = async (state) => {
        this.forgotten.push(state);
      };
    }
  }

  async ask(input: AskInput): Promise<BackendAnswer> {
    const history = readHistory(input.state);
    this.asks.push({ text: input.text, user: input.user, systemPrompt: input.systemPrompt, role: input.role, history });
    const failure = this.failures.shift();
    if (failure) throw failure;
    const answer = this.answer(input.text, history);
    const size = Math.ceil(answer.length / this.chunks);
    for (let end = size; end < answer.length && this.chunks > 1; end += size) {
      input.onText?.(answer.slice(0, end));
      if (this.chunkDelayMs > 0) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
    }
    input.onText?.(answer);
    return {
      answer,
      state: { history: [...history, { q: input.text, a: answer }] },
      usage: { promptTokens: 11 * (history.length + 1), completionTokens: 7 },
    };
  }

  /** Questions asked so far, in order. */
  get questions(): string[] {
    return this.asks.map((a) => a.text);
  }
}

function readHistory(state: BackendState | undefined): Array<{ q: string; a: string }> {
  const history = (state as { history?: unknown } | undefined)?.history;
  return Array.isArray(history) ? (history as Array<{ q: string; a: string }>) : [];
}
