import { describe, expect, it } from 'vitest';
import { BusyError } from '../../src/errors.js';
import { RunSlots, reservedSlots } from '../../src/engine/run-slots.js';

const soon = () => Date.now() + 2_000;

describe('RunSlots shared by the chat and API doors', () => {
  it('keeps the chat share free however many API questions wait (20 slots, 50 % chat, 25 % API)', async () => {
    const slots = new RunSlots(20, { chat: 50, api: 25 });
    expect(slots.reservations).toEqual({ chat: 10, api: 5 });
    const apiHeld: Array<() => void> = [];
    let apiGranted = 0;
    const apiWaiting = Array.from({ length: 45 }, () =>
      slots.acquire(soon(), undefined, 'api').then((release) => {
        apiGranted++;
        apiHeld.push(release);
      }),
    );
    await new Promise((r) => setImmediate(r));
    // 45 API questions hold only what is not kept for chat…
    expect(apiHeld).toHaveLength(10);
    expect(slots.waiting).toBe(35);
    // …so ten students get a run at once.
    const chat = await Promise.all(Array.from({ length: 10 }, () => slots.acquire(soon(), undefined, 'chat')));
    expect(slots.inUse).toBe(20);
    // A freed chat slot goes to the next chat question first; then back to the API.
    const eleventh = slots.acquire(soon(), undefined, 'chat');
    chat[0]!();
    const eleventhRelease = await eleventh;
    for (const release of [...chat.slice(1), eleventhRelease]) release();
    await new Promise((r) => setImmediate(r));
    expect(apiHeld).toHaveLength(10); // still only its share while chat keeps its reservation
    // With chat idle again the API works through its line, ten at a time.
    for (let round = 0; round < 5 && apiGranted < 45; round++) {
      for (const release of apiHeld.splice(0)) release();
      await new Promise((r) => setImmediate(r));
      expect(apiHeld.length).toBeLessThanOrEqual(10);
    }
    await Promise.all(apiWaiting);
    expect(apiGranted).toBe(45);
    for (const release of apiHeld.splice(0)) release();
    expect(slots.inUse).toBe(0);
  });

  it('lets chat use all but the API reservation when the API is idle, and the reverse', async () => {
    const slots = new RunSlots(8, { chat: 50, api: 25 });
    const chat = await Promise.all(Array.from({ length: 6 }, () => slots.acquire(soon(), undefined, 'chat')));
    const seventh = slots.acquire(Date.now() + 50, undefined, 'chat');
    await expect(seventh).rejects.toBeInstanceOf(BusyError);
    const api = await Promise.all(Array.from({ length: 2 }, () => slots.acquire(soon(), undefined, 'api')));
    expect(slots.inUse).toBe(8);
    for (const release of [...chat, ...api]) release();
    expect(slots.inUse).toBe(0);
  });

  it('each door can always run at least one question, whatever the shares', () => {
    for (const max of [1, 2, 3, 5, 20]) {
      for (const [chat, api] of [[0, 0], [50, 25], [100, 0], [0, 100], [50, 50]] as const) {
        const r = reservedSlots(max, { chat, api });
        expect(max - r.chat).toBeGreaterThanOrEqual(1);
        expect(max - r.api).toBeGreaterThanOrEqual(1);
        expect(r.chat + r.api).toBeLessThanOrEqual(max);
      }
    }
  });

  it('drops a waiter whose signal fires, without taking its slot', async () => {
    const slots = new RunSlots(1);
    const release = await slots.acquire(soon());
    const gone = new AbortController();
    const waiter = slots.acquire(soon(), gone.signal, 'api');
    gone.abort();
    await expect(waiter).rejects.toBeInstanceOf(BusyError);
    release();
    expect(slots.inUse).toBe(0);
    expect(slots.waiting).toBe(0);
  });
});
