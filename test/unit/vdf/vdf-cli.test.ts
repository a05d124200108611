import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { vdfCommand } from '../../../src/cli/commands/vdf.js';
import { evaluateBigint } from '../../../src/vdf/bigint-vdf.js';
import { encodeElement } from '../../../src/vdf/group.js';
import { hashToGroup } from '../../../src/vdf/hash-to-group.js';

function capture(): { lines: string[] } {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.join(' '));
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return { lines };
}

describe('timecoin vdf', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('eval prints y and a proof that verify accepts; verify rejects a wrong T', async () => {
    const out = capture();
    expect(await vdfCommand.run(['eval', '--input', 'abcd', '--t', '300', '--json'])).toBe(0);
    const r = JSON.parse(out.lines[0] as string) as { x: string; y: string; proof: string; t: number };
    const x = hashToGroup(new Uint8Array([0xab, 0xcd]));
    expect(r.x).toBe(Buffer.from(encodeElement(x)).toString('hex'));
    expect(r.y).toBe(Buffer.from(encodeElement(evaluateBigint(x, 300))).toString('hex'));
    expect(await vdfCommand.run(['verify', '--x', r.x, '--y', r.y, '--proof', r.proof, '--t', '300'])).toBe(
      0,
    );
    expect(
      await vdfCommand.run(['verify', '--input', 'abcd', '--y', r.y, '--proof', r.proof, '--t', '301']),
    ).toBe(1);
    expect(out.lines.slice(1)).toEqual(['valid', 'INVALID']);
  });

  it('calibrate prints the measured rate and T = rate × seconds', async () => {
    const out = capture();
    expect(await vdfCommand.run(['calibrate', '--seconds', '10', '--sample-seconds', '0.2'])).toBe(0);
    const rate = Number(/squaringsPerSecond\s+(\d+)/.exec(out.lines.join('\n'))?.[1]);
    const t = Number(/\bt\s+(\d+)/.exec(out.lines.join('\n'))?.[1]);
    expect(rate).toBeGreaterThan(0);
    expect(Math.abs(t - rate * 10)).toBeLessThanOrEqual(10);
  });

  it('rejects bad flags with usage errors', async () => {
    capture();
    await expect(vdfCommand.run(['eval', '--t', '5'])).rejects.toThrow(UsageError);
    await expect(vdfCommand.run(['eval', '--input', '00', '--t', '0'])).rejects.toThrow(UsageError);
    await expect(vdfCommand.run(['eval', '--x', '00', '--t', '5'])).rejects.toThrow(UsageError);
    await expect(vdfCommand.run(['nope'])).rejects.toThrow(UsageError);
  });
});
