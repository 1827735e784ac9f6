import { BusyError } from '../errors.js';

/**
 * A global cap on assistant runs in flight (MAX_CONCURRENT_RUNS), so a burst waits its turn
 * instead of exhausting DingTalk's quota. A waiter gives up at its deadline with BusyError.
 */
export class RunSlots {
  private active = 0;
  private readonly waiters: Array<{ grant: () => void }> = [];

  constructor(private readonly max: number) {}

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with a release function once a slot is free. */
  acquire(deadline: number, signal?: AbortSignal): Promise<() => void> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          cleanup();
          resolve(this.releaser());
        },
      };
      const fail = (err: Error) => {
        cleanup();
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new BusyError(`no free run slot before the deadline (${this.max} in use)`)),
        Math.max(0, deadline - Date.now()),
      );
      const onAbort = () => fail(new BusyError('cancelled while waiting for a run slot'));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the slot straight to the next waiter; `active` stays the same.
      if (next) next.grant();
      else this.active--;
    };
  }
}
