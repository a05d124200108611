import { describe, expect, it } from 'vitest';
import { UwsWriteDeferral } from '../../../src/p2p/uws-write-deferral.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('UwsWriteDeferral', () => {
  it('writes at once outside a uWS callback', () => {
    const d = new UwsWriteDeferral();
    const out: string[] = [];
    d.write(() => out.push('a'));
    expect(out).toEqual(['a']);
    expect(d.deferred).toBe(0);
  });

  it('defers writes made inside a callback to the next turn, in order', async () => {
    const d = new UwsWriteDeferral();
    const out: string[] = [];
    const r = d.during(() => {
      d.write(() => out.push('a'));
      d.write(() => out.push('b'));
      expect(d.mustDefer).toBe(true);
      return 7;
    });
    expect(r).toBe(7);
    expect(out).toEqual([]);
    await turn();
    expect(out).toEqual(['a', 'b']);
    expect(d.deferred).toBe(2);
    expect(d.mustDefer).toBe(false);
  });

  it('queues a write made after the callback behind the deferred ones (frames keep their order)', async () => {
    const d = new UwsWriteDeferral();
    const out: string[] = [];
    d.during(() => d.write(() => out.push('reply')));
    d.write(() => out.push('later'));
    expect(out).toEqual([]);
    await turn();
    expect(out).toEqual(['reply', 'later']);
  });

  it('nested callbacks defer until the outermost ends; a throwing callback still ends', () => {
    const d = new UwsWriteDeferral();
    expect(() =>
      d.during(() => {
        d.during(() => undefined);
        expect(d.mustDefer).toBe(true);
        throw new Error('handler');
      }),
    ).toThrow('handler');
    expect(d.mustDefer).toBe(false);
  });

  it('a write that triggers another write during the flush runs in the same pass, after it', async () => {
    const d = new UwsWriteDeferral();
    const out: string[] = [];
    d.during(() =>
      d.write(() => {
        out.push('a');
        d.during(() => d.write(() => out.push('from close callback')));
      }),
    );
    d.during(() => d.write(() => out.push('b')));
    await turn();
    expect(out).toEqual(['a', 'b', 'from close callback']);
    expect(d.mustDefer).toBe(false);
  });

  it('clear drops what is queued', async () => {
    const d = new UwsWriteDeferral();
    const out: string[] = [];
    d.during(() => d.write(() => out.push('a')));
    d.clear();
    await turn();
    expect(out).toEqual([]);
    expect(d.mustDefer).toBe(false);
  });

  it('a deferred write that throws is counted and skipped; the others run once', async () => {
    const d = new UwsWriteDeferral();
    const out: string[] = [];
    d.during(() => {
      d.write(() => out.push('a'));
      d.write(() => {
        throw new Error('closed socket');
      });
      d.write(() => out.push('c'));
    });
    await turn();
    expect(out).toEqual(['a', 'c']);
    expect(d.failed).toBe(1);
    expect(d.mustDefer).toBe(false);
    d.write(() => out.push('d'));
    await turn();
    expect(out).toEqual(['a', 'c', 'd']);
  });
});
