/** Transfer limits of one model call; the question's deadline bounds each of them too. */
export interface ModelTimeouts {
  /** Longest wait for the response headers. */
  readonly firstByteMs: number;
  /** Longest silence between two chunks of a streamed answer (Dify pings every 10 s). */
  readonly idleMs: number;
}

export const DEFAULT_MODEL_TIMEOUTS: ModelTimeouts = { firstByteMs: 30_000, idleMs: 45_000 };
