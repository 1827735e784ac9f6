import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/engine/keyed-queue.js';
import { RunSlots } from '../../src/engine/run-slots.js';
import { BusyError } from '../../src/errors.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('KeyedQueue', () => {
  it('runs one task at a time per key, in order, and keys in parallel', async () => {
    const q = new KeyedQueue(10);
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
    };
    await Promise.all([q.run('a', task('a1')), q.run('a', task('a2')), q.run('b', task('b1'))]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('keeps going after a failed task and frees empty lanes', async () => {
    const q = new KeyedQueue(10);
    await expect(q.run('a', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(q.run('a', async () => 'ok')).resolves.toBe('ok');
    await tick();
    expect(q.size('a')).toBe(0);
  });

  it('refuses past the limit', async () => {
    const q = new KeyedQueue(1);
    const first = q.run('a', () => tick(20));
    await expect(q.run('a', async () => 1)).rejects.toBeInstanceOf(BusyError);
    await first;
  });
});

describe('RunSlots', () => {
  it('hands slots out in order and times out waiters', async () => {
    const slots = new RunSlots(1);
    const release = await slots.acquire(Date.now() + 1000);
    const waiter = slots.acquire(Date.now() + 1000);
    const late = slots.acquire(Date.now() + 10);
    await expect(late).rejects.toBeInstanceOf(BusyError);
    release();
    const next = await waiter;
    expect(slots.inUse).toBe(1);
    next();
    next(); // releasing twice is harmless
    expect(slots.inUse).toBe(0);
  });
});
