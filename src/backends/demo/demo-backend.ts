import { AssistantError } from '../../errors.js';
import type { AskInput, AssistantBackend, BackendAnswer, BackendState } from '../assistant-backend.js';
import { demoAnswer, demoRequestOf } from './demo-answers.js';

export interface DemoBackendOptions {
  /**
   * Pause between two streamed steps, so the typing (and, for long answers, the "thinking"
   * notice) can be seen. Default 300 ms; tests use less.
   */
  readonly stepMs?: number;
}

/** Steps an answer is streamed in; a long one takes longer, like a real model. */
const STEPS = { answer: 5, 'long-answer': 10 } as const;

/**
 * A backend for `npm run demo` when no model is configured: deterministic answers that say they
 * are the demo and how to connect a real model, streamed through `onText` in a few steps. Its
 * state counts the conversation's questions and keeps the last one, so follow-ups and /new show.
 */
export function createDemoBackend(options: DemoBackendOptions = {}): AssistantBackend {
  const stepMs = options.stepMs ?? 300;
  return {
    name: 'demo',
    async ask(input: AskInput): Promise<BackendAnswer> {
      const state = readState(input.state);
      const request = demoRequestOf(input.text);
      if (request === 'failure') {
        await pause(stepMs, input);
        throw new AssistantError('unavailable', 'demo backend: failure asked for by the question');
      }
      const number = state.questions + 1;
      const answer = demoAnswer({ question: input.text, number, previous: state.lastQuestion });
      for (const soFar of prefixes(answer, STEPS[request])) {
        await pause(stepMs, input);
        input.onText?.(soFar);
      }
      const next: BackendState = { questions: number, lastQuestion: input.text };
      return { answer, state: next };
    },
    async check() {
      // Nothing to reach: the demo answers from this process.
    },
  };
}

interface DemoState {
  readonly questions: number;
  readonly lastQuestion?: string;
}

function readState(state: BackendState | undefined): DemoState {
  const questions = typeof state?.questions === 'number' && state.questions >= 0 ? state.questions : 0;
  const lastQuestion = typeof state?.lastQuestion === 'string' ? state.lastQuestion : undefined;
  return { questions, lastQuestion };
}

/** The answer growing in `steps` pieces, cut after a line where one is near (the last is whole). */
export function prefixes(answer: string, steps: number): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 1; i < steps; i++) {
    const target = Math.floor((answer.length * i) / steps);
    const lineEnd = answer.indexOf('\n', target);
    const cut = lineEnd >= 0 && lineEnd - target < 200 ? lineEnd : target;
    if (cut > from) out.push(answer.slice(0, cut));
    from = Math.max(from, cut);
  }
  out.push(answer);
  return out;
}

/** Waits `ms`, or throws at the deadline (timeout) or when the caller gives up (cancelled). */
function pause(ms: number, input: AskInput): Promise<void> {
  const { deadline, signal } = input;
  if (signal?.aborted) return Promise.reject(new AssistantError('cancelled', 'demo backend: cancelled'));
  const untilDeadline = deadline - Date.now();
  return new Promise((resolve, reject) => {
    const timedOut = untilDeadline < ms;
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        if (timedOut) reject(new AssistantError('timeout', 'demo backend: deadline reached'));
        else resolve();
      },
      Math.max(0, Math.min(ms, untilDeadline)),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AssistantError('cancelled', 'demo backend: cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
