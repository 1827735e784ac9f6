/**
 * An AbortSignal that fires after `timeoutMs` or when the caller's signal fires, and remembers
 * which of the two it was (a timeout is reported differently from a cancellation).
 */
export interface CallDeadline {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  /** Clears the timer and the link to the caller's signal; call in `finally`. */
  clear(): void;
}

export function startCallDeadline(timeoutMs: number, callerSignal?: AbortSignal): CallDeadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  callerSignal?.addEventListener('abort', onAbort, { once: true });
  if (callerSignal?.aborted) controller.abort();
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    clear() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}
