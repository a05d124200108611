import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { vdfCommand } from '../../../src/cli/commands/vdf.js';
import { MAINNET } from '../../../src/params/networks.js';
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

  it('calibrate prints both rates, T = WASM rate × seconds, and what OpenSSL × factor needs for the network T', async () => {
    const out = capture();
    expect(
      await vdfCommand.run([
        'calibrate',
        '--seconds',
        '10',
        '--sample-seconds',
        '0.2',
        '--factor',
        '4',
        '--json',
      ]),
    ).toBe(0);
    const r = JSON.parse(out.lines[0] as string) as Record<string, number | string>;
    const wasm = r['wasmSquaringsPerSecond'] as number;
    const openssl = r['opensslSquaringsPerSecond'] as number;
    expect(wasm).toBeGreaterThan(0);
    expect(openssl).toBeGreaterThan(0);
    expect(Math.abs((r['t'] as number) - wasm * 10)).toBeLessThanOrEqual(10);
    expect(r['opensslSeconds']).toBeCloseTo((r['t'] as number) / openssl, 0);
    expect(r['network']).toBe('mainnet');
    expect(r['networkT']).toBe(MAINNET.vdfDelay);
    expect(r['networkFastestWindows']).toBeCloseTo(MAINNET.vdfDelay / (openssl * 4) / 30, 1);
    await expect(vdfCommand.run(['calibrate', '--seconds', '1', '--network', 'nope'])).rejects.toThrow(
      UsageError,
    );
    await expect(vdfCommand.run(['calibrate', '--seconds', '1', '--factor', '0'])).rejects.toThrow(
      UsageError,
    );
  });

  it('rejects bad flags with usage errors', async () => {
    capture();
    await expect(vdfCommand.run(['eval', '--t', '5'])).rejects.toThrow(UsageError);
    await expect(vdfCommand.run(['eval', '--input', '00', '--t', '0'])).rejects.toThrow(UsageError);
    await expect(vdfCommand.run(['eval', '--x', '00', '--t', '5'])).rejects.toThrow(UsageError);
    await expect(vdfCommand.run(['nope'])).rejects.toThrow(UsageError);
  });
});
