import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../../src/ledger/serial-queue.js';

/** A promise the test settles by hand. */
function gate<T = void>() {
  let open!: (v: T) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe('SerialQueue (the ledger state changes run one at a time)', () => {
  it('runs in call order, one at a time, counting queued and running operations', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const first = gate();
    const second = gate();
    const a = q.run(async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
      return 'a';
    });
    const b = q.run(async () => {
      log.push('b start');
      await second.promise;
      return 'b';
    });
    expect(q.size).toBe(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['a start']);
    first.open();
    expect(await a).toBe('a');
    expect(q.size).toBe(1);
    second.open();
    expect(await b).toBe('b');
    expect(log).toEqual(['a start', 'a end', 'b start']);
    await q.close();
    expect(q.size).toBe(0);
  });

  it('a failed operation rejects its caller, leaves the count right and does not stop the next', async () => {
    const q = new SerialQueue();
    const failing = gate();
    const bad = q.run(() => failing.promise);
    const good = q.run(async () => 7);
    failing.fail(new Error('disk full'));
    await expect(bad).rejects.toThrow('disk full');
    expect(await good).toBe(7);
    await q.close();
    expect(q.size).toBe(0);
  });

  it('close waits for what is queued, then refuses new operations by name', async () => {
    const q = new SerialQueue();
    const slow = gate();
    let done = false;
    void q.run(async () => {
      await slow.promise;
      done = true;
    });
    const closing = q.close();
    await expect(q.run(async () => 1)).rejects.toThrow('serial queue closed');
    expect(q.size).toBe(1);
    slow.open();
    await closing;
    expect(done).toBe(true);
    expect(q.size).toBe(0);
  });
});
