import { setMaxListeners } from 'node:events';
import type { Logger } from '../logger.js';

/**
 * The chat messages being handled in the background, for a graceful stop: let them finish for a
 * while, then cancel the rest through `signal` (they stay pending in the ledger for the next
 * process). A failure of one message is logged, never thrown.
 */
export class InFlightWork {
  private readonly stopping = new AbortController();
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {
    // One listener per message in flight, which the queue limits bound; not a leak to warn of.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Aborted once `stop` gives up waiting: work still running stops where it can. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  track(messageId: string, work: Promise<void>): void {
    const task = work.catch((err: unknown) => {
      this.logger.error('chat message handling failed', { msgId: messageId, err: String(err) });
    });
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** Resolves within about `graceMs` + `cancelMs`. */
  async stop(graceMs: number, cancelMs: number): Promise<void> {
    if (await settlesWithin(this.all(), graceMs)) return;
    this.stopping.abort();
    this.logger.warn('stopping: cancelling unfinished chat messages', { count: this.tasks.size });
    await settlesWithin(this.all(), cancelMs);
  }

  private all(): Promise<unknown> {
    return Promise.allSettled([...this.tasks]);
  }
}

async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const done = await Promise.race([work.then(() => true as const), timeout]);
  clearTimeout(timer);
  return done;
}
