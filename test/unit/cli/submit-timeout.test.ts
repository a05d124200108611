import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devnetFundedKey } from '../../../src/chain/genesis.js';
import { UsageError } from '../../../src/cli/command.js';
import { masternodeCommand } from '../../../src/cli/commands/masternode.js';
import { sendCommand } from '../../../src/cli/commands/wallet.js';
import { CliFailure, EXIT } from '../../../src/cli/rpc-client.js';
import { MAX_WAIT_MS, waitTimeout } from '../../../src/cli/wallet-context.js';
import { DEVNET } from '../../../src/params/networks.js';
import { encodeAddress } from '../../../src/protocol/address.js';
import { writeKeyFile } from '../../../src/wallet/key-file.js';

/*
 * `--timeout` of the commands that submit and wait (`send`, `masternode register|deregister`) is
 * one rule, checked before the wallet is read or the node asked. `masternode` used to take it
 * unchecked and fail only after its collateral transaction was submitted ("cannot reach the
 * node", exit 3, for `soon`; a -32602, exit 6, for 600001), so the user would try again. The
 * "node" here is an HTTP server that records every request and has no coins to list.
 */

let dir: string;
let wallet: string;
let server: Server;
let port: number;
const requests: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-timeout-'));
  wallet = join(dir, 'wallet.json');
  writeKeyFile(wallet, DEVNET, devnetFundedKey(3));
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      requests.push(text);
      const body = JSON.parse(text) as { id: number; method: string };
      res.setHeader('content-type', 'application/json');
      const answer =
        body.method === 'masternodelist'
          ? { result: [] }
          : body.method === 'listunspent'
            ? { result: [] }
            : { error: { code: -32601, message: 'not here' } };
      res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, ...answer }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const connection = (walletFile: string) => [
  '--wallet',
  walletFile,
  '--rpc-host',
  '127.0.0.1',
  '--rpc-port',
  String(port),
  '--rpc-user',
  'u',
  '--rpc-password',
  'p',
];
const nodePubkey = 'ab'.repeat(32);
/** Each command with `--timeout=T` (the = form, so '-5' is a value and not a flag). */
const commands = {
  'masternode register': (t: string, walletFile = wallet) =>
    masternodeCommand.run([
      'register',
      '--tier',
      'bronze',
      '--devnet-index',
      '7',
      ...connection(walletFile),
      `--timeout=${t}`,
    ]),
  'masternode deregister': (t: string, walletFile = wallet) =>
    masternodeCommand.run(['deregister', nodePubkey, ...connection(walletFile), `--timeout=${t}`]),
  send: (t: string, walletFile = wallet) =>
    sendCommand.run([
      encodeAddress(DEVNET.addressDigit, devnetFundedKey(4).addressPayload),
      '1',
      ...connection(walletFile),
      `--timeout=${t}`,
    ]),
};

describe('--timeout of the submitting commands', () => {
  it('waitTimeout: whole milliseconds from 0 to 600000, anything else a usage error', () => {
    expect(MAX_WAIT_MS).toBe(600_000);
    expect(waitTimeout('0')).toBe(0);
    expect(waitTimeout('60000')).toBe(60_000);
    expect(waitTimeout('600000')).toBe(600_000);
    for (const bad of ['soon', '600001', '-1', '1.5', 'NaN', 'Infinity', undefined]) {
      expect(() => waitTimeout(bad), String(bad)).toThrow(UsageError);
      expect(() => waitTimeout(bad)).toThrow('--timeout is milliseconds, at most 600000');
    }
  });

  for (const [name, run] of Object.entries(commands)) {
    it(`${name} refuses a bad --timeout as a usage error before reading the wallet or asking the node`, async () => {
      for (const bad of ['soon', '600001', '-5']) {
        requests.length = 0;
        await expect(run(bad), bad).rejects.toThrow(UsageError);
        expect(requests, bad).toEqual([]);
      }
      // A wallet that cannot be read is not reached either: the timeout is checked first.
      await expect(run('soon', join(dir, 'none.json'))).rejects.toThrow(UsageError);
      expect(requests).toEqual([]);
    });
  }

  it('a good --timeout goes on to the node (and here finds no coins or no masternode)', async () => {
    requests.length = 0;
    await expect(commands['masternode register']('1000')).rejects.toMatchObject({
      exitCode: EXIT.INSUFFICIENT_FUNDS,
    });
    await expect(commands['masternode deregister']('1000')).rejects.toBeInstanceOf(CliFailure);
    await expect(commands.send('1000')).rejects.toMatchObject({ exitCode: EXIT.INSUFFICIENT_FUNDS });
    expect(requests.map((r) => (JSON.parse(r) as { method: string }).method)).toEqual([
      'listunspent',
      'masternodelist',
      'listunspent',
    ]);
  });
});
