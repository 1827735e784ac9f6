/**
 * What the engine needs from an AI assistant. Nothing outside a backend's own folder may know
 * the vendor's thread/message/run shapes; a backend throws `AssistantError` (src/errors.ts).
 */
export interface AssistantBackend {
  readonly name: string;
  /** Creates an empty conversation thread upstream and returns its id. */
  createThread(options: CallOptions): Promise<string>;
  /**
   * Adds the user's text to the thread, runs the assistant and returns the answer of that run.
   * `onProgress` reports durable checkpoints so a caller can resume after a crash or timeout.
   */
  ask(input: AskInput): Promise<BackendAnswer>;
  /**
   * Waits for a run started earlier (by `ask`, before a timeout or a crash) to finish and returns
   * its answer. Lets the engine never start a run while an older one may still be active.
   */
  resume(input: ResumeInput): Promise<BackendAnswer>;
}

export interface CallOptions {
  /** Epoch ms after which the backend stops waiting and throws `AssistantError('timeout')`. */
  readonly deadline: number;
  /** Aborted on shutdown; the backend stops and throws `AssistantError('cancelled')`. */
  readonly signal?: AbortSignal;
  /** Structured log fields of the caller (conversation key, msgId); never secrets. */
  readonly logContext?: Record<string, unknown>;
}

export interface AskInput extends CallOptions {
  readonly threadId: string;
  readonly text: string;
  /**
   * The text already reached the thread (a crash came between adding it and starting the
   * run): start the run without adding it again.
   */
  readonly messageAlreadyAdded?: boolean;
  /**
   * A crash came while the text was being added: look upstream first and do not add it again
   * if it is there (nor start a second run if one was started for it).
   */
  readonly messageMaybeAdded?: boolean;
  readonly onProgress?: (checkpoint: RunCheckpoint) => void | Promise<void>;
}

export interface ResumeInput extends CallOptions {
  readonly threadId: string;
  readonly runId: string;
}

/** A step of `ask` that has happened upstream and must not be repeated. */
export type RunCheckpoint =
  | { readonly step: 'message-added'; readonly messageId?: string }
  | { readonly step: 'run-started'; readonly runId: string };

export interface BackendAnswer {
  readonly answer: string;
  readonly runId?: string;
}
