import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/command.js';
import { nodeCommand } from '../../../src/cli/commands/node.js';
import { CliFailure, EXIT, RpcClient } from '../../../src/cli/rpc-client.js';

describe('numeric command-line values are read as written', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  });

  it('--rpc-port takes digits only (Number() read 0x50, 1e3 and " 80" as ports)', () => {
    for (const bad of ['0x50', '1e3', ' 80', '80.0', '', '0', '65536']) {
      let err: unknown;
      try {
        RpcClient.fromFlags({ 'rpc-port': bad, 'rpc-user': 'u', 'rpc-password': 'p' });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(CliFailure);
      expect((err as CliFailure).exitCode).toBe(EXIT.USAGE);
    }
    expect(RpcClient.fromFlags({ 'rpc-port': '8080', 'rpc-user': 'u', 'rpc-password': 'p' }).url).toBe(
      'http://127.0.0.1:8080/',
    );
  });

  it('--test-clock-offset-ms takes an integer as written (Number() read "" as 0 and 1e3 as 1000)', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'rev-offset-'));
    for (const bad of ['', '1e3', '0x10', '1.5', ' 5']) {
      const err = await nodeCommand
        .run(['--datadir', datadir, `--test-clock-offset-ms=${bad}`])
        .catch((e) => e);
      expect(err, JSON.stringify(bad)).toBeInstanceOf(UsageError);
    }
    // A well-formed offset passes the check (the command then stops at the missing node key).
    const ok = await nodeCommand.run(['--datadir', datadir, '--test-clock-offset-ms=-2000']).catch((e) => e);
    expect((ok as { code?: string }).code).toBe('NODE_KEY_MISSING');
  });
});
