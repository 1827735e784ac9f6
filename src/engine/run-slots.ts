import { BusyError } from '../errors.js';
import type { RunClass } from './types.js';

/** Percent of the slots kept for each class (CHAT_RUN_SHARE, HTTP_RUN_SHARE); the rest is shared. */
export type RunShares = Readonly<Record<RunClass, number>>;

const NO_SHARES: RunShares = { chat: 0, api: 0 };

interface Waiter {
  readonly runClass: RunClass;
  grant(): void;
}

/**
 * A global cap on questions at the model service (MAX_CONCURRENT_RUNS), so a burst waits its
 * turn instead of exhausting the vendor's quota, shared fairly between the classes of askers:
 * each class has slots reserved that the other can never take (a burst of API calls cannot
 * starve the students chatting, nor the reverse), and the rest is taken by whoever comes first.
 * A waiter gives up at its deadline or on its signal with BusyError.
 */
export class RunSlots {
  private readonly reserved: Readonly<Record<RunClass, number>>;
  private readonly held: Record<RunClass, number> = { chat: 0, api: 0 };
  /** In arrival order; a later waiter of another class may go first when the earlier may not. */
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly max: number,
    shares: RunShares = NO_SHARES,
  ) {
    this.reserved = reservedSlots(max, shares);
  }

  get inUse(): number {
    return this.held.chat + this.held.api;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Slots kept for each class (the log and tests). */
  get reservations(): Readonly<Record<RunClass, number>> {
    return this.reserved;
  }

  /** Resolves with a release function once a slot this class may use is free. */
  acquire(deadline: number, signal?: AbortSignal, runClass: RunClass = 'chat'): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new BusyError('cancelled before a run slot was free'));
    if (this.waiters.length === 0 && this.mayTake(runClass)) return Promise.resolve(this.take(runClass));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        runClass,
        grant: () => {
          cleanup();
          resolve(this.take(runClass));
        },
      };
      const fail = (err: Error) => {
        cleanup();
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new BusyError(`no free run slot before the deadline (${this.max} in use or reserved)`)),
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => fail(new BusyError('cancelled while waiting for a run slot'));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      // A waiter of one class may be grantable although an earlier one of the other is not.
      this.grantWaiting();
    });
  }

  /** Free slots beyond what the other class is still owed of its reservation. */
  private mayTake(runClass: RunClass): boolean {
    const other: RunClass = runClass === 'chat' ? 'api' : 'chat';
    const owedToOther = Math.max(0, this.reserved[other] - this.held[other]);
    return this.max - this.inUse > owedToOther;
  }

  private take(runClass: RunClass): () => void {
    this.held[runClass]++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held[runClass]--;
      this.grantWaiting();
    };
  }

  private grantWaiting(): void {
    for (let i = 0; i < this.waiters.length && this.inUse < this.max; ) {
      const waiter = this.waiters[i]!;
      if (!this.mayTake(waiter.runClass)) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      waiter.grant();
    }
  }
}

/**
 * The slots each class keeps, from its percent of `max`. Each class can always run at least one
 * question: the reservations together leave at least one slot to the other class.
 */
export function reservedSlots(max: number, shares: RunShares): Readonly<Record<RunClass, number>> {
  const chat = clamp(Math.round((max * shares.chat) / 100), 0, max - 1);
  const api = clamp(Math.round((max * shares.api) / 100), 0, max - 1 - chat);
  return { chat, api };
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}
