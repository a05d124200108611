import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devnetFundedKey, devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { loadNodeConfig } from '../../../src/config/node-config.js';
import { FEE, fundedCoin, pay, recipient } from '../../../src/devnet/coins.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { TimeNode } from '../../../src/node/node.js';
import { devnetNodeKey } from '../../../src/node/node-key.js';
import { NODE_VERSION } from '../../../src/node/node-rpc.js';
import { DEVNET, devnetParams, TESTNET } from '../../../src/params/networks.js';
import { formatTime } from '../../../src/params/units.js';
import { encodeAddress } from '../../../src/protocol/address.js';
import { encodeBlock, headerHash } from '../../../src/protocol/block.js';
import { basicAuthHeader, COOKIE_USER } from '../../../src/rpc/rpc-auth.js';
import { PROTOCOL_VERSION } from '../../../src/wire/limits.js';

/*
 * The node's JSON-RPC methods with exact answers, on a real node started in this process (store,
 * pool, transport, RPC server: the same TimeNode.start the CLI runs), so that mutation testing
 * reaches node-rpc.ts and address-rpc.ts. Alone, the node never finalizes anything: a submitted
 * transaction stays processing, which is what the mempool answers below rely on.
 * test/e2e/node/interfaces.test.ts checks the same methods on a live 4-node network.
 */

const ZERO = '0'.repeat(64);
const genesis = genesisBlock(DEVNET);
const genesisHash = toHex(headerHash(genesis.header));
const allocation = genesis.txs[0]!;
const addressOf = (payload: Uint8Array) => encodeAddress(DEVNET.addressDigit, payload);
const funded = addressOf(devnetFundedKey(5).addressPayload);

let dir: string;
let node: TimeNode;
let authorization: string;

interface Answer {
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

async function call(method: string, params: unknown[] = []): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${node.rpcPort}/`, {
    method: 'POST',
    headers: { authorization },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as Answer;
}

async function result<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const r = await call(method, params);
  expect(r.error, `${method} ${JSON.stringify(params)}`).toBeUndefined();
  return r.result as T;
}

async function error(method: string, params: unknown[] = []): Promise<NonNullable<Answer['error']>> {
  const r = await call(method, params);
  expect(r.error, `${method} ${JSON.stringify(params)} must fail`).toBeDefined();
  return r.error!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'timecoin-node-rpc-'));
  const config = loadNodeConfig({
    network: 'devnet',
    env: {},
    overrides: { datadir: dir, 'p2p.port': 0, 'rpc.port': 0, 'node.workers': 1 },
  });
  node = await TimeNode.start({
    params: devnetParams(),
    config,
    key: devnetNodeKey(0),
    log: pino({ level: 'silent' }),
  });
  authorization = basicAuthHeader(COOKIE_USER, readFileSync(join(dir, '.cookie'), 'utf8').split(':')[1]!);
}, 60_000);

afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('node RPC methods, answered by a node in this process', () => {
  it('help lists every method with its parameters, describes one, and names an unknown one', async () => {
    const list = await result<string[]>('help');
    expect(list).toContain('getblock blockhash [verbosity]');
    expect(list).toContain('listunspent address [minconf] [maxcount]');
    expect(list).toContain('uptime');
    expect(list).toEqual([...list].sort());
    expect(await result('help', ['getblock'])).toEqual({
      name: 'getblock',
      summary: expect.stringContaining('verbosity 0 hex'),
      params: [
        { name: 'blockhash', optional: false, description: 'block hash' },
        { name: 'verbosity', optional: true, description: '0, 1 or 2' },
      ],
    });
    expect(await error('help', ['nope'])).toMatchObject({ code: -8, message: 'no method nope' });
  });

  it('describes the chain: network, tip and genesis', async () => {
    expect(await result('getblockchaininfo')).toEqual({
      chain: 'devnet',
      chainid: DEVNET.chainId,
      blocks: 0,
      bestblockhash: genesisHash,
      bestslot: 0,
      genesis: genesisHash,
    });
    expect(await result('getbestblockhash')).toBe(genesisHash);
    expect(await result('getblockhash', [0])).toBe(genesisHash);
    expect(await error('getblockhash', [1])).toMatchObject({
      code: -8,
      message: 'block height out of range',
    });
  });

  it('getblock answers hex, header and txids, or whole transactions; an unknown hash is -5', async () => {
    expect(await result('getblock', [genesisHash, 0])).toBe(toHex(encodeBlock(genesis)));
    const h = genesis.header;
    const header = {
      hash: genesisHash,
      confirmations: 1,
      height: 0,
      version: h.version,
      slot: 0,
      time: h.timestampMs,
      previousblockhash: ZERO,
      merkleroot: toHex(h.merkleRoot),
      witnessroot: toHex(h.witnessRoot),
      producer: toHex(h.producerPubkey),
      rank: h.rank,
      beacon: toHex(h.beaconY),
      size: encodeBlock(genesis).length,
      nTx: genesis.txs.length,
    };
    expect(await result('getblock', [genesisHash])).toEqual({
      ...header,
      tx: genesis.txs.map((t) => toHex(t.txid)),
    });
    const full = await result<{ tx: Record<string, unknown>[] }>('getblock', [genesisHash, 2]);
    expect(full).toMatchObject(header);
    expect(full.tx[0]).toEqual({
      txid: toHex(allocation.txid),
      hex: toHex(allocation.bytes),
      vin: [],
      vout: allocation.tx.outputs.map((o, n) => ({
        n,
        value: formatTime(o.value),
        sat: o.value.toString(),
        address: toHex(o.address),
      })),
      locktime: 0,
    });
    expect(await error('getblock', [ZERO])).toMatchObject({ code: -5, message: 'block not found' });
    expect((await error('getblock', [genesisHash, 3])).code).toBe(-32602);
  });

  it('getrawtransaction finds a transaction of the chain, hex or decoded; an unknown one is -5', async () => {
    const txid = toHex(allocation.txid);
    expect(await result('getrawtransaction', [txid])).toBe(toHex(allocation.bytes));
    const decoded = await result<Record<string, unknown>>('getrawtransaction', [txid, true]);
    expect(decoded).toMatchObject({
      txid,
      hex: toHex(allocation.bytes),
      size: allocation.bytes.length,
      status: 'in-block',
      height: 0,
      vin: [],
      locktime: 0,
      payload: null,
    });
    expect((decoded['vout'] as unknown[])[5]).toEqual({
      n: 5,
      value: formatTime(fundedCoin(5).value),
      sat: fundedCoin(5).value.toString(),
      address: toHex(devnetFundedKey(5).addressPayload),
    });
    expect(await error('getrawtransaction', [ZERO])).toMatchObject({
      code: -5,
      message: 'no such transaction in the mempool or the chain',
    });
  });

  it('validateaddress accepts this network’s addresses only', async () => {
    expect(await result('validateaddress', [funded])).toEqual({
      isvalid: true,
      address: funded,
      payload: toHex(devnetFundedKey(5).addressPayload),
    });
    const testnet = encodeAddress(TESTNET.addressDigit, devnetFundedKey(5).addressPayload);
    expect(await result('validateaddress', [testnet])).toMatchObject({ isvalid: false });
    const typo = `${funded.slice(0, -1)}${funded.endsWith('x') ? 'y' : 'x'}`;
    expect(await result('validateaddress', [typo])).toEqual({ isvalid: false, error: 'BAD_CHECKSUM' });
    expect(await result('validateaddress', [testnet])).toEqual({ isvalid: false, error: 'BAD_NETWORK' });
  });

  it('getbalance and listunspent read the genesis allocation exactly; a bad address is -5 with its code', async () => {
    const sat = fundedCoin(5).value;
    expect(await result('getbalance', [funded])).toEqual({
      address: funded,
      value: formatTime(sat),
      sat: sat.toString(),
      confirmed: { value: formatTime(sat), sat: sat.toString() },
      pending: { value: formatTime(0n), sat: '0' },
      confirmedoutputs: 1,
      height: 0,
    });
    const row = {
      txid: toHex(allocation.txid),
      vout: 5,
      address: funded,
      amount: formatTime(sat),
      sat: sat.toString(),
      confirmations: 1,
      height: 0,
      final: true,
      coinbase: false,
      spendable: true,
    };
    expect(await result('listunspent', [funded])).toEqual([row]);
    expect(await result('listunspent', [funded, 1, 1])).toEqual([row]);
    expect(await result('listunspent', [funded, 2])).toEqual([]);
    const bad = await error('getbalance', ['TIME0notanaddress']);
    expect(bad.code).toBe(-5);
    expect(bad.message).toMatch(/^invalid address: /);
    expect(typeof bad.data?.['code']).toBe('string');
    expect((await error('listunspent', [funded, 0, 0])).code).toBe(-32602);
    expect((await error('listunspent', [funded, 0, 10_001])).code).toBe(-32602);
  });

  it('masternodelist shows the genesis masternodes, which one is this node, and who is connected', async () => {
    const list = await result<Record<string, unknown>[]>('masternodelist');
    const self = toHex(devnetNodeKey(0).publicKey);
    const genesisNodes = devnetMasternodes();
    expect(list.map((m) => m['pubkey'])).toEqual(genesisNodes.map((m) => toHex(m.nodeKey.publicKey)).sort());
    for (const m of list)
      expect(m).toMatchObject({
        tier: 'bronze',
        weight: DEVNET.tiers[1]!.weight,
        status: 'active',
        registeredheight: 0,
        deregisteredheight: null,
        self: m['pubkey'] === self,
        connected: m['pubkey'] === self,
      });
    const mine = genesisNodes.find((m) => toHex(m.nodeKey.publicKey) === self)!;
    expect(list.find((m) => m['self'])!['rewardaddress']).toBe(addressOf(mine.ownerKey.addressPayload));
    expect(await result('masternodelist', [true])).toEqual(list);
  });

  it('getnetworkinfo and getconsensusinfo describe this node alone', async () => {
    expect(await result('getnetworkinfo')).toEqual({
      version: NODE_VERSION,
      subversion: `/timecoin-ts:${NODE_VERSION}/`,
      protocolversion: PROTOCOL_VERSION,
      network: 'devnet',
      chainid: DEVNET.chainId,
      nodeid: node.nodeId,
      p2pport: node.p2pPort,
      connections: 0,
      connections_in: 0,
      connections_out: 0,
      relayfee: { value: formatTime(DEVNET.minRelayFeePerKb), sat: DEVNET.minRelayFeePerKb.toString() },
    });
    expect(await result('getpeerinfo')).toEqual([]);
    const c = await result<Record<string, unknown>>('getconsensusinfo');
    expect(c).toMatchObject({
      role: 'validator',
      nodeid: node.nodeId,
      snowball: { ...DEVNET.snowball },
      polltimeoutms: DEVNET.pollTimeoutMs,
      concurrentpolls: DEVNET.concurrentPolls,
      activeweight: 5 * DEVNET.tiers[1]!.weight,
      quorum: false,
      finalityhalted: false,
    });
    expect(c['masternodes']).toHaveLength(5);
    expect(await result('listbanned')).toEqual([]);
    expect(await result('getdoublesignevidence')).toEqual([]);
    expect(await result('getdoublesignevidence', [ZERO])).toEqual([]);
    expect(Number.isInteger(await result('uptime'))).toBe(true);
  });

  it('sendrawtransaction admits a transaction as processing; the mempool, finality and balance methods show it', async () => {
    const tx = pay(fundedCoin(5), recipient(1), 3_000_000n);
    const txid = toHex(tx.txid);
    expect(await result('sendrawtransaction', [toHex(tx.bytes)])).toBe(txid);
    expect(await result('getrawmempool')).toEqual([txid]);
    expect(await result('getrawmempool', [true])).toEqual({
      [txid]: {
        status: 'processing',
        size: tx.bytes.length,
        fee: { value: formatTime(FEE), sat: FEE.toString() },
      },
    });
    expect(await result('getmempoolinfo')).toMatchObject({
      size: 1,
      bytes: tx.bytes.length,
      processing: 1,
      finalized: 0,
      orphans: 0,
      minrelaytxfee: { value: formatTime(DEVNET.minRelayFeePerKb), sat: DEVNET.minRelayFeePerKb.toString() },
    });
    expect(await result('gettransactionfinality', [txid])).toEqual({
      txid,
      status: 'processing',
      final: false,
    });
    const waited = await result<Record<string, unknown>>('waittransactionfinality', [txid, 20]);
    expect(waited).toMatchObject({ txid, status: 'processing', final: false });
    expect(waited['waitedms']).toBeGreaterThanOrEqual(20);
    expect(await result('gettransactionfinality', [ZERO])).toEqual({
      txid: ZERO,
      status: 'unknown',
      final: false,
    });
    expect(await result('getrawtransaction', [txid, true])).toMatchObject({
      txid,
      status: 'processing',
      vin: [{ txid: toHex(allocation.txid), vout: 5 }],
    });
    // Pending: the whole allocation leaves the address and the change comes back.
    const pending = -(3_000_000n + FEE);
    expect(await result('getbalance', [funded])).toMatchObject({
      sat: fundedCoin(5).value.toString(),
      pending: { value: formatTime(pending), sat: pending.toString() },
    });
    // An output a mempool transaction spends is not listed as unspent.
    expect(await result('listunspent', [funded])).toEqual([]);
    // The same bytes again answer the same txid (as bitcoind does for a transaction it holds);
    // bytes that do not decode and a forged signature get their codes.
    expect(await result('sendrawtransaction', [toHex(tx.bytes)])).toBe(txid);
    expect(await result('getrawmempool')).toEqual([txid]);
    expect(await error('sendrawtransaction', ['00ff'])).toMatchObject({
      code: -22,
      data: { code: 'MALFORMED' },
    });
    const forged = new Uint8Array(pay(fundedCoin(6), recipient(2), 1_000_000n).bytes);
    forged[forged.length - 1]! ^= 1;
    expect(await error('sendrawtransaction', [toHex(forged)])).toMatchObject({
      code: -25,
      data: { code: 'BAD_SIGNATURE' },
    });
  });

  it('stop answers, then the node stops', async () => {
    const stopped = new Promise<void>((resolve) => {
      node.onStopRequested = () => {
        void node.stop().then(resolve);
      };
    });
    expect(await result('stop')).toBe('timecoin node stopping');
    await stopped;
  });
});
