import type { Logger } from '../../logger.js';
import type { CallBudget } from './call-budget.js';
import { withRetry } from './upstream-call.js';
import { runPath, RUNNING_STATUSES, type WireRun } from './wire-types.js';

export interface PollTiming {
  /** Wait before the first poll (0 for a run that may already be over). */
  readonly firstDelayMs: number;
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
}

/**
 * Short at first, so a quick run is answered soon after it ends (polls at 100, 200, 350, 575,
 * 912 ms... so an 800 ms run is seen ~110 ms late); capped to spare the 20 QPS per-app quota.
 */
export const DEFAULT_POLL_TIMING: PollTiming = { firstDelayMs: 100, initialMs: 100, factor: 1.5, maxMs: 1_500 };

/** Polls a run until it leaves queued/in_progress/requires_action and returns it. */
export async function pollRun(
  budget: CallBudget,
  logger: Logger,
  threadId: string,
  runId: string,
  timing: PollTiming = DEFAULT_POLL_TIMING,
): Promise<WireRun> {
  let interval = timing.initialMs;
  // Polls are due at fixed offsets from now, not `interval` after the previous answer, so the
  // round trips do not push the schedule back (~20 ms by the 5th poll).
  const start = Date.now();
  let due = timing.firstDelayMs;
  if (timing.firstDelayMs > 0) await budget.sleep(timing.firstDelayMs);
  for (;;) {
    const run = await withRetry(
      budget,
      logger,
      () => budget.request<WireRun>({ method: 'GET', path: runPath(threadId, runId) }),
      {
        what: 'retrieve run',
        idempotent: true,
        // Throttled: slow the whole poll down, not only this retry.
        onRetry: (v) => {
          if (v.retry === 'throttled') interval = Math.min(interval * 3, timing.maxMs * 3);
        },
      },
    );
    if (!RUNNING_STATUSES.has(run?.status ?? '')) return run ?? {};
    due += interval;
    await budget.sleep(Math.max(0, start + due - Date.now()));
    interval = Math.min(interval * timing.factor, Math.max(timing.maxMs, interval));
  }
}
