import type { AskInput, AssistantBackend, BackendAnswer } from '../../src/backends/assistant-backend.js';
import { AssistantError } from '../../src/errors.js';

/** How one answer is written: its pieces, the pause before each, and how it ends. */
export interface StreamScript {
  readonly chunks: readonly string[];
  readonly chunkMs: number;
  /** Thrown after the chunks instead of answering. */
  readonly fail?: AssistantError;
}

/**
 * A model backend (our port, no vendor) that writes each answer piece by piece through
 * `onText`, like the OpenAI and Dify backends do, honouring the deadline and the signal.
 * `script(question)` decides what each question gets.
 */
export class StreamingBackend implements AssistantBackend {
  readonly name = 'openai';
  /** Questions asked, in order. */
  readonly asked: string[] = [];
  /** Date.now() of the first onText of each question. */
  readonly firstTextAt = new Map<string, number>();

  constructor(public script: (question: string) => StreamScript) {}

  async ask(input: AskInput): Promise<BackendAnswer> {
    this.asked.push(input.text);
    const s = this.script(input.text);
    let soFar = '';
    for (const chunk of s.chunks) {
      await pause(s.chunkMs, input);
      soFar += chunk;
      if (!this.firstTextAt.has(input.text)) this.firstTextAt.set(input.text, Date.now());
      input.onText?.(soFar);
    }
    if (s.fail) throw s.fail;
    return { answer: soFar, state: { turns: this.asked.length } };
  }
}

/** Chunks of `text` of about `size` characters (code points kept whole). */
export function chunksOf(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

function pause(ms: number, input: AskInput): Promise<void> {
  if (input.signal?.aborted) return Promise.reject(new AssistantError('cancelled', 'cancelled'));
  if (Date.now() + ms > input.deadline) {
    return new Promise((_, reject) =>
      setTimeout(() => reject(new AssistantError('timeout', 'no answer before the deadline')), Math.max(0, input.deadline - Date.now())),
    );
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    input.signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new AssistantError('cancelled', 'cancelled'));
    }, { once: true });
  });
}
