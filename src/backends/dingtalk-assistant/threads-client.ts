import type { CallOptions } from '../assistant-backend.js';

/**
 * DingTalk's Threads API as the thread session sees it: a thread, a message, a run. Vendor
 * vocabulary stays in this folder; the engine sees only `AssistantBackend`.
 */
export interface ThreadsClient {
  /** Creates an empty conversation thread upstream and returns its id. */
  createThread(options: CallOptions): Promise<string>;
  /**
   * Adds the user's text to the thread, runs the assistant and returns the answer of that run.
   * `onProgress` reports durable checkpoints so a caller can resume after a crash or timeout.
   */
  ask(input: ThreadAskInput): Promise<RunAnswer>;
  /** Waits for a run started earlier (before a timeout or a crash) to finish and returns its answer. */
  resume(input: ResumeInput): Promise<RunAnswer>;
  /** Confirms the configured assistant exists and may be run, without asking it anything. */
  checkAssistant?(options: CallOptions): Promise<void>;
  /** Deletes a thread upstream with everything in it (reset, expiry); a thread already gone is fine. */
  deleteThread?(threadId: string, options: CallOptions): Promise<void>;
}

export interface ThreadAskInput extends CallOptions {
  readonly threadId: string;
  readonly text: string;
  /** The text already reached the thread (a crash came between adding it and starting the run). */
  readonly messageAlreadyAdded?: boolean;
  /** A crash came while the text was being added: look upstream first, add it only if absent. */
  readonly messageMaybeAdded?: boolean;
  readonly onProgress?: (checkpoint: RunCheckpoint) => void | Promise<void>;
  /** The answer so far while a streamed run writes it (the whole text each time). */
  readonly onText?: (textSoFar: string) => void;
}

export interface ResumeInput extends CallOptions {
  readonly threadId: string;
  readonly runId: string;
}

/** A step of `ask` that has happened upstream and must not be repeated. */
export type RunCheckpoint =
  | { readonly step: 'message-added'; readonly messageId?: string }
  | { readonly step: 'run-started'; readonly runId: string };

export interface RunAnswer {
  readonly answer: string;
  readonly runId?: string;
}
