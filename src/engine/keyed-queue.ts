import { BusyError } from '../errors.js';

/**
 * Runs tasks one at a time per key, in arrival order, while different keys run in parallel
 * (grammY runner's sequentialize). At most `limit` tasks may wait or run per key; one more is
 * refused with BusyError instead of growing memory without bound.
 */
export class KeyedQueue {
  private readonly lanes = new Map<string, { tail: Promise<unknown>; size: number }>();

  constructor(private readonly limit: number) {}

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const lane = this.lanes.get(key) ?? { tail: Promise.resolve(), size: 0 };
    if (lane.size >= this.limit) {
      return Promise.reject(new BusyError(`queue for ${key} is full (${this.limit})`));
    }
    lane.size++;
    this.lanes.set(key, lane);
    const result = lane.tail.then(task);
    // The next task waits for this one whether it succeeded or not.
    lane.tail = result.then(
      () => this.leave(key, lane),
      () => this.leave(key, lane),
    );
    return result;
  }

  /** Keys with a task waiting or running. */
  get activeKeys(): number {
    return this.lanes.size;
  }

  /** Tasks waiting or running for `key`. */
  size(key: string): number {
    return this.lanes.get(key)?.size ?? 0;
  }

  /** Resolves when every queued task has settled (graceful stop). */
  async drain(): Promise<void> {
    while (this.lanes.size > 0) {
      await Promise.allSettled([...this.lanes.values()].map((l) => l.tail));
    }
  }

  private leave(key: string, lane: { size: number }): void {
    lane.size--;
    if (lane.size === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }
}
