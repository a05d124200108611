import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devnetFundedKey, devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { loadNodeConfig } from '../../../src/config/node-config.js';
import { FEE, fundedCoin, pay, recipient, split } from '../../../src/devnet/coins.js';
import { toHex } from '../../../src/encoding/bytes.js';
import { TimeNode } from '../../../src/node/node.js';
import { devnetNodeKey } from '../../../src/node/node-key.js';
import { NODE_VERSION } from '../../../src/node/node-rpc.js';
import type { ChainParams } from '../../../src/params/chain-params.js';
import { DEVNET, devnetParams, TESTNET } from '../../../src/params/networks.js';
import { formatTime } from '../../../src/params/units.js';
import { encodeAddress } from '../../../src/protocol/address.js';
import { type Block, encodeBlock, headerHash } from '../../../src/protocol/block.js';
import type { EncodedTx } from '../../../src/protocol/tx-codec.js';
import { basicAuthHeader } from '../../../src/rpc/rpc-auth.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { deregistrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import { PROTOCOL_VERSION } from '../../../src/wire/limits.js';
import { extendStore, nextBlockOn } from '../../support/block-builder.js';
import { freeRegistration } from '../../support/devnet-ledger.js';

/*
 * The node's JSON-RPC methods with exact answers, on a real node started in this process (store,
 * pool, transport, RPC server: the same TimeNode.start the CLI runs), so that mutation testing
 * reaches node-rpc.ts and address-rpc.ts. Its data directory is prepared first: three real devnet
 * blocks (the first carries a payment, the second a split into 1,100 outputs) and one final
 * transaction not yet in a block, as a node
 * has after a restart. Alone, the node never finalizes anything more: a submitted transaction
 * stays processing, which is what the mempool answers below rely on.
 * test/e2e/node/interfaces.test.ts checks the same methods on a live 4-node network.
 */

const ZERO = '0'.repeat(64);
const genesis = genesisBlock(DEVNET);
const genesisHash = toHex(headerHash(genesis.header));
const allocation = genesis.txs[0]!;
const addressOf = (payload: Uint8Array) => encodeAddress(DEVNET.addressDigit, payload);
const funded = addressOf(devnetFundedKey(5).addressPayload);

/** In block 1: funded key 7 pays recipient 1. */
const inBlock = pay(fundedCoin(7), recipient(1), 2_000_000n);
/** In block 2: funded key 9 splits its allocation into 1,100 outputs (more than a page of the address index). */
const manyOutputs = split(fundedCoin(9), 1_100, 1_000_000n).tx;
/** Final (persisted) but in no block: funded key 8 pays recipient 2. */
const finalized = pay(fundedCoin(8), recipient(2), 5_000_000n);
let blocks: Block[];
const hashOf = (b: Block) => toHex(headerHash(b.header));

let dir: string;
let node: TimeNode;
let authorization: string;

/** A devnet validator (key `keyIndex`) started in this process on `datadir`, and its cookie's header. */
async function startNode(
  datadir: string,
  keyIndex: number,
  seeds: string[] = [],
  more: { params?: ChainParams; overrides?: Record<string, unknown>; testSwitches?: boolean } = {},
): Promise<{ node: TimeNode; authorization: string }> {
  const config = loadNodeConfig({
    network: 'devnet',
    env: {},
    overrides: {
      datadir,
      'p2p.port': 0,
      'rpc.port': 0,
      'node.workers': 1,
      'p2p.seeds': seeds,
      ...more.overrides,
    },
  });
  const started = await TimeNode.start({
    params: more.params ?? devnetParams(),
    config,
    key: devnetNodeKey(keyIndex),
    log: pino({ level: 'silent' }),
    ...(more.testSwitches ? { testSwitches: true } : {}),
  });
  const [user, password] = readFileSync(join(datadir, '.cookie'), 'utf8').split(':');
  return { node: started, authorization: basicAuthHeader(user!, password!) };
}

interface Answer {
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

/** One call to the node under test, or to `to` when given. */
async function call(
  method: string,
  params: unknown[] = [],
  to: { node: TimeNode; authorization: string } = { node, authorization },
): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${to.node.rpcPort}/`, {
    method: 'POST',
    headers: { authorization: to.authorization },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as Answer;
}

async function result<T = unknown>(
  method: string,
  params: unknown[] = [],
  to: { node: TimeNode; authorization: string } = { node, authorization },
): Promise<T> {
  const r = await call(method, params, to);
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
  const store = await ChainStore.open(dir, DEVNET, genesis);
  const first = nextBlockOn(store, [{ etx: inBlock, fee: FEE }]).block;
  await store.applyBlock(first);
  const second = nextBlockOn(store, [{ etx: manyOutputs, fee: FEE }]).block;
  await store.applyBlock(second);
  blocks = [genesis, first, second, ...(await extendStore(store, [3]))];
  await store.putFinalized(finalized);
  await store.close();
  ({ node, authorization } = await startNode(dir, 0));
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
    // Test switches are off: their method does not exist.
    expect(list).not.toContain('test_setbehaviour changes');
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
      blocks: 3,
      bestblockhash: hashOf(blocks[3]!),
      bestslot: 3,
      genesis: genesisHash,
    });
    expect(await result('getbestblockhash')).toBe(hashOf(blocks[3]!));
    for (let h = 0; h <= 3; h++) expect(await result('getblockhash', [h])).toBe(hashOf(blocks[h]!));
    expect(await error('getblockhash', [4])).toMatchObject({
      code: -8,
      message: 'block height out of range',
    });
  });

  /** getblock's header fields for the block at `height` of the 3-block chain. */
  function headerAt(height: number): Record<string, unknown> {
    const b = blocks[height]!;
    const h = b.header;
    return {
      hash: hashOf(b),
      confirmations: 3 - height + 1,
      height,
      version: h.version,
      slot: h.slot,
      time: h.timestampMs,
      previousblockhash: toHex(h.prevHash),
      ...(height < 3 ? { nextblockhash: hashOf(blocks[height + 1]!) } : {}),
      merkleroot: toHex(h.merkleRoot),
      witnessroot: toHex(h.witnessRoot),
      producer: toHex(h.producerPubkey),
      rank: h.rank,
      beacon: toHex(h.beaconY),
      size: encodeBlock(b).length,
      nTx: b.txs.length,
    };
  }

  const vout = (etx: EncodedTx) =>
    etx.tx.outputs.map((o, n) => ({
      n,
      value: formatTime(o.value),
      sat: o.value.toString(),
      address: toHex(o.address),
    }));

  it('getblock answers hex, header and txids, or whole transactions; an unknown hash is -5', async () => {
    expect(await result('getblock', [genesisHash, 0])).toBe(toHex(encodeBlock(genesis)));
    expect(headerAt(0)['previousblockhash']).toBe(ZERO);
    for (const height of [0, 1, 3])
      expect(await result('getblock', [hashOf(blocks[height]!)])).toEqual({
        ...headerAt(height),
        tx: blocks[height]!.txs.map((t) => toHex(t.txid)),
      });
    const full = await result<{ tx: Record<string, unknown>[] }>('getblock', [hashOf(blocks[1]!), 2]);
    expect(full).toMatchObject(headerAt(1));
    expect(full.tx).toEqual(
      blocks[1]!.txs.map((t) => ({
        txid: toHex(t.txid),
        hex: toHex(t.bytes),
        vin: t.tx.inputs.map((i) => ({ txid: toHex(i.txid), vout: i.vout })),
        vout: vout(t),
        locktime: t.tx.lockTime,
      })),
    );
    expect(full.tx[0]!['locktime']).toBe(1); // a coinbase carries its height
    // The payment is in it, spending funded key 7's allocation.
    expect(full.tx.map((t) => t['txid'])).toContain(toHex(inBlock.txid));
    expect(full.tx.find((t) => t['txid'] === toHex(inBlock.txid))!['vin']).toEqual([
      { txid: toHex(allocation.txid), vout: 7 },
    ]);
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
      height: 3,
    });
    const row = {
      txid: toHex(allocation.txid),
      vout: 5,
      address: funded,
      amount: formatTime(sat),
      sat: sat.toString(),
      confirmations: 4,
      height: 0,
      final: true,
      coinbase: false,
      spendable: true,
    };
    expect(await result('listunspent', [funded])).toEqual([row]);
    expect(await result('listunspent', [funded, 4, 1])).toEqual([row]);
    expect(await result('listunspent', [funded, 5])).toEqual([]);
    const bad = await error('getbalance', ['TIME0notanaddress']);
    expect(bad.code).toBe(-5);
    expect(bad.message).toMatch(/^invalid address: /);
    expect(typeof bad.data?.['code']).toBe('string');
    expect((await error('listunspent', [funded, 0, 0])).code).toBe(-32602);
    expect((await error('listunspent', [funded, 0, 10_001])).code).toBe(-32602);
  });

  it('a transaction in a block: found there, final, answered at once, and refused as already in the chain', async () => {
    const txid = toHex(inBlock.txid);
    expect(await result('getrawtransaction', [txid, true])).toEqual({
      txid,
      hex: toHex(inBlock.bytes),
      size: inBlock.bytes.length,
      status: 'in-block',
      height: 1,
      vin: [{ txid: toHex(allocation.txid), vout: 7 }],
      vout: vout(inBlock),
      locktime: 0,
      payload: null,
    });
    expect(await result('gettransactionfinality', [txid])).toEqual({
      txid,
      status: 'in-block',
      final: true,
      height: 1,
    });
    const waited = await result<Record<string, unknown>>('waittransactionfinality', [txid, 5_000]);
    expect(waited).toMatchObject({ txid, status: 'in-block', final: true });
    // The timeout is optional: a final transaction answers at once either way.
    expect(await result('waittransactionfinality', [txid])).toMatchObject({
      status: 'in-block',
      final: true,
    });
    expect(waited['waitedms']).toBeLessThan(1_000);
    expect(await error('sendrawtransaction', [toHex(inBlock.bytes)])).toEqual({
      code: -27,
      message: 'transaction already in a block',
      data: { txid },
    });
    // Its outputs: confirmed at height 1 (3 confirmations); the change back to funded key 7.
    const seven = addressOf(devnetFundedKey(7).addressPayload);
    const change = inBlock.tx.outputs[1]!.value;
    expect(await result('getbalance', [seven])).toMatchObject({
      sat: change.toString(),
      confirmedoutputs: 1,
    });
    expect(await result('listunspent', [seven])).toEqual([
      {
        txid,
        vout: 1,
        address: seven,
        amount: formatTime(change),
        sat: change.toString(),
        confirmations: 3,
        height: 1,
        final: true,
        coinbase: false,
        spendable: true,
      },
    ]);
    expect(await result('listunspent', [seven, 3])).toHaveLength(1);
    expect(await result('listunspent', [seven, 4])).toEqual([]);
  });

  it('a final transaction not yet in a block: final everywhere, its outputs listed at minconf 0 only', async () => {
    const txid = toHex(finalized.txid);
    expect(await result('gettransactionfinality', [txid])).toEqual({
      txid,
      status: 'finalized',
      final: true,
    });
    expect(await result('waittransactionfinality', [txid, 5_000])).toMatchObject({
      status: 'finalized',
      final: true,
    });
    expect(await result('getrawtransaction', [txid, true])).toMatchObject({
      status: 'finalized',
      vout: vout(finalized),
    });
    const two = addressOf(recipient(2));
    expect(await result('getbalance', [two])).toEqual({
      address: two,
      value: formatTime(5_000_000n),
      sat: '5000000',
      confirmed: { value: formatTime(0n), sat: '0' },
      pending: { value: formatTime(0n), sat: '0' },
      confirmedoutputs: 0,
      height: 3,
    });
    const row = {
      txid,
      vout: 0,
      address: two,
      amount: formatTime(5_000_000n),
      sat: '5000000',
      confirmations: 0,
      final: true,
      coinbase: false,
      spendable: true,
    };
    expect(await result('listunspent', [two])).toEqual([row]);
    expect(await result('listunspent', [two, 1])).toEqual([]);
    // Funded key 8's allocation is spent by it: final balance less, confirmed unchanged.
    const eight = addressOf(devnetFundedKey(8).addressPayload);
    const spent = 5_000_000n + FEE;
    expect(await result('getbalance', [eight])).toMatchObject({
      sat: (fundedCoin(8).value - spent).toString(),
      confirmed: { sat: fundedCoin(8).value.toString() },
    });
    // Its allocation is spent (not listed); its change is final, not yet confirmed.
    expect(await result('listunspent', [eight])).toEqual([
      expect.objectContaining({
        txid,
        vout: 1,
        confirmations: 0,
        sat: (fundedCoin(8).value - spent).toString(),
      }),
    ]);
  });

  it('listunspent reads past a page of the address index, and stops at exactly maxcount', async () => {
    const nine = addressOf(devnetFundedKey(9).addressPayload);
    const all = await result<Record<string, unknown>[]>('listunspent', [nine]);
    expect(all).toHaveLength(manyOutputs.tx.outputs.length);
    expect(all.map((r) => r['vout'])).toEqual(manyOutputs.tx.outputs.map((_, vout) => vout));
    expect(all.every((r) => r['height'] === 2 && r['txid'] === toHex(manyOutputs.txid))).toBe(true);
    for (const maxcount of [1, 999, 1_000, 1_001])
      expect(await result('listunspent', [nine, 0, maxcount]), String(maxcount)).toEqual(
        all.slice(0, maxcount),
      );
    expect(await result('getbalance', [nine])).toMatchObject({
      confirmedoutputs: manyOutputs.tx.outputs.length,
      sat: (fundedCoin(9).value - FEE).toString(),
    });
  });

  it('coinbase outputs are listed oldest first, not spendable before maturity, and paged by maxcount', async () => {
    // Every block pays each active masternode's reward address: the first owner key's has three.
    const owner = addressOf(devnetMasternodes()[0]!.ownerKey.addressPayload);
    const all = await result<Record<string, unknown>[]>('listunspent', [owner]);
    const coinbase = all.filter((r) => r['coinbase'] === true);
    expect(coinbase.map((r) => r['height'])).toEqual([1, 2, 3]);
    expect(coinbase.map((r) => r['confirmations'])).toEqual([3, 2, 1]);
    expect(coinbase.every((r) => r['spendable'] === false)).toBe(true);
    expect(await result('listunspent', [owner, 0, 2])).toEqual(all.slice(0, 2));
    expect(await result('listunspent', [owner, 0, all.length])).toEqual(all);
    expect(await result('listunspent', [owner, 2])).toEqual(
      all.filter((r) => (r['confirmations'] as number) >= 2),
    );
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
        // Bronze has collateral: output 0 of its genesis registration transaction.
        collateral: { txid: expect.stringMatching(/^[0-9a-f]{64}$/), vout: 0 },
      });
    const registrations = new Set(genesis.txs.map((t) => toHex(t.txid)));
    expect(list.every((m) => registrations.has((m['collateral'] as { txid: string }).txid))).toBe(true);
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
    const banned = devnetFundedKey(3).publicKey;
    const until = Date.now() + 3_600_000;
    node.store.peerBans().ban(banned, { untilMs: until, reason: 'INVALID_BLOCK: test', bannedAtMs: 1_000 });
    expect(await result('listbanned')).toEqual([
      { key: toHex(banned), reason: 'INVALID_BLOCK: test', bannedat: 1_000, banneduntil: until },
    ]);
    node.store.peerBans().unban(banned);
    expect(await result('getdoublesignevidence')).toEqual([]);
    expect(await result('getdoublesignevidence', [ZERO])).toEqual([]);
    expect(Number.isInteger(await result('uptime'))).toBe(true);
  });

  it('sendrawtransaction admits a transaction as processing; the mempool, finality and balance methods show it', async () => {
    const tx = pay(fundedCoin(5), recipient(1), 3_000_000n);
    const txid = toHex(tx.txid);
    expect(await result('sendrawtransaction', [toHex(tx.bytes)])).toBe(txid);
    const fin = toHex(finalized.txid);
    expect(await result('getrawmempool')).toEqual([txid, fin]);
    expect(await result('getrawmempool', [true])).toEqual({
      [fin]: {
        status: 'finalized',
        size: finalized.bytes.length,
        fee: { value: formatTime(FEE), sat: FEE.toString() },
      },
      [txid]: {
        status: 'processing',
        size: tx.bytes.length,
        fee: { value: formatTime(FEE), sat: FEE.toString() },
      },
    });
    expect(await result('getmempoolinfo')).toMatchObject({
      size: 2,
      bytes: tx.bytes.length + finalized.bytes.length,
      processing: 1,
      finalized: 1,
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
    // It waited its timeout, not the default (a timer may fire a millisecond early by Date.now).
    expect(waited['waitedms']).toBeGreaterThanOrEqual(15);
    expect(waited['waitedms']).toBeLessThan(5_000);
    const unknown = await result<Record<string, unknown>>('waittransactionfinality', [ZERO, 20]);
    expect(unknown).toMatchObject({ txid: ZERO, status: 'unknown', final: false });
    expect(unknown['waitedms']).toBeGreaterThanOrEqual(15);
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
    expect(await result('getrawmempool')).toEqual([txid, fin]);
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
    expect(await error('sendrawtransaction', [12])).toMatchObject({ code: -32602 });
    // A rival spend of the same coin is admitted too: Snowball, not arrival order, picks one.
    const rival = pay(fundedCoin(5), recipient(3), 4_000_000n);
    expect(await result('sendrawtransaction', [toHex(rival.bytes)])).toBe(toHex(rival.txid));
    expect(new Set(await result<string[]>('getrawmempool'))).toEqual(new Set([txid, toHex(rival.txid), fin]));
    // A rival of a final transaction is refused at once, with the mempool's code.
    expect(
      await error('sendrawtransaction', [toHex(pay(fundedCoin(8), recipient(5), 1_000_000n).bytes)]),
    ).toMatchObject({
      code: -26,
      data: { code: 'CONFLICTS_FINALIZED' },
    });
    // A child of the final transaction spends an output that is in no block: the balance finds it
    // in the mempool, the same on every query.
    const eight = addressOf(devnetFundedKey(8).addressPayload);
    const change8 = finalized.tx.outputs[1]!;
    const child = pay(
      { outpoint: { txid: finalized.txid, vout: 1 }, value: change8.value, key: devnetFundedKey(8) },
      recipient(4),
      1_000_000n,
    );
    expect(await result('sendrawtransaction', [toHex(child.bytes)])).toBe(toHex(child.txid));
    const childPending = -(1_000_000n + FEE);
    for (let i = 0; i < 2; i++)
      expect(await result('getbalance', [eight])).toMatchObject({
        sat: change8.value.toString(),
        pending: { sat: childPending.toString() },
      });
  });

  it('every method has a summary and every parameter a description, and uptime counts seconds', async () => {
    const names = (await result<string[]>('help')).map((line) => line.split(' ')[0]!);
    expect(names.length).toBeGreaterThan(20);
    // Test-only methods exist only on a node started with test switches.
    expect(names.filter((n) => n.startsWith('test_'))).toEqual([]);
    expect(NODE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    for (const name of names) {
      const h = await result<{ summary: string; params: { name: string; description: string }[] }>('help', [
        name,
      ]);
      expect(h.summary.length, name).toBeGreaterThan(10);
      for (const q of h.params) {
        expect(q.name.length, `${name} param`).toBeGreaterThan(0);
        expect(q.description.length, `${name} ${q.name}`).toBeGreaterThan(3);
      }
    }
    const up = await result<number>('uptime');
    expect(up).toBeGreaterThanOrEqual(0);
    expect(up).toBeLessThanOrEqual(Math.ceil((Date.now() - node.startedAtMs) / 1000));
  });

  it('a peer that connects shows in getpeerinfo, getnetworkinfo and masternodelist', async () => {
    const peerDir = mkdtempSync(join(tmpdir(), 'timecoin-node-rpc-peer-'));
    const { node: peer, authorization: peerAuthorization } = await startNode(peerDir, 1, [
      `127.0.0.1:${node.p2pPort}`,
    ]);
    try {
      const connected = new Promise<void>((resolve) => {
        if (node.p2p.peers().length > 0) resolve();
        else node.p2p.once('peer:connected', () => resolve());
      });
      await connected;
      const peers = await result<Record<string, unknown>[]>('getpeerinfo');
      expect(peers).toEqual([
        {
          id: peer.nodeId,
          addr: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
          inbound: true,
          masternode: true,
          startingheight: expect.any(Number),
        },
      ]);
      expect(peers[0]!['addr']).toBe(`127.0.0.1:${peer.p2pPort}`);
      expect(await result('getnetworkinfo')).toMatchObject({
        connections: 1,
        connections_in: 1,
        connections_out: 0,
      });
      // The same link seen from the peer, which dialed it: outbound.
      const ask = async (method: string) =>
        (await call(method, [], { node: peer, authorization: peerAuthorization })).result;
      expect(await ask('getnetworkinfo')).toMatchObject({
        connections: 1,
        connections_in: 0,
        connections_out: 1,
      });
      expect(await ask('getpeerinfo')).toEqual([
        expect.objectContaining({ id: node.nodeId, inbound: false }),
      ]);
      const list = await result<Record<string, unknown>[]>('masternodelist');
      expect(
        list
          .filter((m) => m['connected'] === true)
          .map((m) => m['pubkey'])
          .sort(),
      ).toEqual([node.nodeId, peer.nodeId].sort());
    } finally {
      await peer.stop();
      rmSync(peerDir, { recursive: true, force: true });
    }
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

describe('node RPC methods at their edges: coinbase maturity, maxcount over both pools, the registry, backpressure', () => {
  /** Block 1 registers A and B (free tier), block 2 deregisters B, block 3 is empty. */
  const nodeA = devnetKeyPair('node-rpc edges', 1);
  const nodeB = devnetKeyPair('node-rpc edges', 2);
  const regA = freeRegistration(2, nodeA);
  const regB = freeRegistration(3, nodeB);
  const backToThree = { txid: regB.txid, vout: 0 };
  const deregB = signTx(
    DEVNET,
    {
      inputs: [backToThree],
      outputs: [{ value: regB.tx.outputs[0]!.value - FEE, address: devnetFundedKey(3).addressPayload }],
      payload: deregistrationPayload(DEVNET, backToThree, nodeB),
    },
    [devnetFundedKey(3)],
  );
  /** Block 1: key 1's allocation split in two (vout 0, 1) and its change (vout 2). */
  const keyOne = split(fundedCoin(1), 2, 1_000_000n);
  /** Final, in no block: key 1's change split again, 3 outputs and change: 4 rows at minconf 0. */
  const changeOne = keyOne.tx.tx.outputs[2]!;
  const again = split(
    { outpoint: { txid: keyOne.tx.txid, vout: 2 }, value: changeOne.value, key: devnetFundedKey(1) },
    3,
    100_000n,
  ).tx;
  let edge: { node: TimeNode; authorization: string };
  let edgeDir: string;

  beforeAll(async () => {
    edgeDir = mkdtempSync(join(tmpdir(), 'timecoin-node-rpc-edges-'));
    const store = await ChainStore.open(edgeDir, DEVNET, genesis);
    const cands = (txs: EncodedTx[]) => txs.map((etx) => ({ etx, fee: FEE }));
    await store.applyBlock(nextBlockOn(store, cands([keyOne.tx, regA, regB])).block);
    await store.applyBlock(nextBlockOn(store, cands([deregB])).block);
    await extendStore(store, [3]);
    await store.putFinalized(again);
    await store.close();
    edge = await startNode(edgeDir, 0, [], {
      // Coinbase outputs mature after 2 blocks; no free masternode is active (A waits).
      params: { ...devnetParams(), coinbaseMaturity: 2, maxActiveFreeMasternodes: 0 },
      overrides: { 'consensus.maxSubmitBacklog': 1 },
      testSwitches: true,
    });
  }, 60_000);

  afterAll(async () => {
    await edge?.node.stop();
    rmSync(edgeDir, { recursive: true, force: true });
  });

  const ask = <T = unknown>(method: string, params: unknown[] = []) => result<T>(method, params, edge);

  it('a coinbase output is spendable once the next block would be `coinbaseMaturity` above it', async () => {
    const owner = addressOf(devnetMasternodes()[0]!.ownerKey.addressPayload);
    const coinbase = (await ask<Record<string, unknown>[]>('listunspent', [owner])).filter(
      (r) => r['coinbase'] === true,
    );
    // Tip 3, maturity 2: the next block (4) may spend heights ≤ 2; height 2 is the boundary.
    // (Block 3's producer is this owner's node too: two coinbase outputs at height 3.)
    expect([...new Set(coinbase.map((r) => `${r['height']}:${r['spendable']}`))]).toEqual([
      '1:true',
      '2:true',
      '3:false',
    ]);
  });

  it('maxcount counts final outputs not yet in a block first, then confirmed ones, oldest first', async () => {
    const one = addressOf(devnetFundedKey(1).addressPayload);
    const all = await ask<Record<string, unknown>[]>('listunspent', [one]);
    // Confirmed: vout 0 and 1 of the block-1 split (its change is spent by the final split).
    const confirmed = all.filter((r) => r['confirmations'] !== 0);
    const pending = all.filter((r) => r['confirmations'] === 0);
    expect(confirmed.map((r) => [r['txid'], r['vout']])).toEqual([
      [toHex(keyOne.tx.txid), 0],
      [toHex(keyOne.tx.txid), 1],
    ]);
    expect(pending.map((r) => [r['txid'], r['vout']])).toEqual(
      [0, 1, 2, 3].map((vout) => [toHex(again.txid), vout]),
    );
    expect(all).toEqual([...confirmed, ...pending]);
    for (const maxcount of [1, 2, 3, 4])
      expect(await ask('listunspent', [one, 0, maxcount]), String(maxcount)).toEqual(
        pending.slice(0, maxcount),
      );
    expect(await ask('listunspent', [one, 0, 5])).toEqual([confirmed[0], ...pending]);
    expect(await ask('listunspent', [one, 0, 6])).toEqual(all);
    expect(await ask('listunspent', [one, 1, 1])).toEqual([confirmed[0]]);
  });

  it('masternodelist: active ones by default; with true also the waiting and the deregistered', async () => {
    const active = await ask<Record<string, unknown>[]>('masternodelist');
    const genesisIds = devnetMasternodes().map((m) => toHex(m.nodeKey.publicKey));
    expect(active.map((m) => m['pubkey'])).toEqual([...genesisIds].sort());
    const all = await ask<Record<string, unknown>[]>('masternodelist', [true]);
    expect(all.map((m) => m['pubkey'])).toEqual(
      [...genesisIds, toHex(nodeA.publicKey), toHex(nodeB.publicKey)].sort(),
    );
    const byId = new Map(all.map((m) => [m['pubkey'], m]));
    expect(byId.get(toHex(nodeA.publicKey))).toMatchObject({
      tier: 'free',
      status: 'waiting',
      registeredheight: 1,
      deregisteredheight: null,
      collateral: null,
      self: false,
    });
    expect(byId.get(toHex(nodeB.publicKey))).toMatchObject({
      status: 'deregistered',
      registeredheight: 1,
      deregisteredheight: 2,
    });
    expect(all.filter((m) => m['status'] === 'active').map((m) => m['pubkey'])).toEqual(
      active.map((m) => m['pubkey']),
    );
    expect(await ask('masternodelist', [false])).toEqual(active);
  });

  it('sendrawtransaction beyond consensus.maxSubmitBacklog is -1 with data.code INTAKE_BUSY, and the first stays', async () => {
    const first = pay(fundedCoin(4), recipient(4), 1_000_000n);
    const second = pay(fundedCoin(5), recipient(5), 1_000_000n);
    expect(await ask('sendrawtransaction', [toHex(first.bytes)])).toBe(toHex(first.txid));
    const r = await call('sendrawtransaction', [toHex(second.bytes)], edge);
    expect(r.error).toMatchObject({
      code: -1,
      message: expect.stringContaining('await finality here; retry shortly'),
      data: { code: 'INTAKE_BUSY' },
    });
    expect(await ask('gettransactionfinality', [toHex(first.txid)])).toMatchObject({ status: 'processing' });
    expect(await ask('gettransactionfinality', [toHex(second.txid)])).toMatchObject({ status: 'unknown' });
  });

  it('a submission Snowball refused at admission (a rival was accepted) is -26 ALREADY_REJECTED', async () => {
    // The race itself (a rival accepted, its finality still being written) is TxIntake's test; here
    // only what the RPC answers for that outcome.
    const tx = pay(fundedCoin(6), recipient(6), 1_000_000n);
    const real = edge.node.submitTx.bind(edge.node);
    edge.node.submitTx = async () => ({ txid: tx.txid, standing: 'rejected', duplicate: false });
    try {
      const r = await call('sendrawtransaction', [toHex(tx.bytes)], edge);
      expect(r.error).toEqual({
        code: -26,
        message: 'transaction was rejected (a conflicting one is final)',
        data: { code: 'ALREADY_REJECTED', txid: toHex(tx.txid) },
      });
    } finally {
      edge.node.submitTx = real;
    }
  });

  it('a fault that is not a refusal (no typed code) is -32603 internal error, not a refusal to retry', async () => {
    const tx = pay(fundedCoin(6), recipient(6), 1_000_000n);
    const real = edge.node.submitTx.bind(edge.node);
    edge.node.submitTx = async () => {
      throw new Error('disk read failed');
    };
    try {
      const r = await call('sendrawtransaction', [toHex(tx.bytes)], edge);
      expect(r.error).toMatchObject({ code: -32603 });
      expect(r.error?.data?.['code']).toBeUndefined();
    } finally {
      edge.node.submitTx = real;
    }
  });

  it('getdoublesignevidence lists every record, or one producer’s only', async () => {
    const evidence = (producer: Uint8Array, slot: number) => ({
      producer: toHex(producer),
      slot,
      height: slot,
      hashes: ['aa'.repeat(32), 'bb'.repeat(32)] as [string, string],
      headers: ['01', '02'] as [string, string],
      detectedAtMs: 1_000 + slot,
    });
    const [x, y] = [devnetNodeKey(3).publicKey, devnetNodeKey(4).publicKey];
    expect(edge.node.doubleSigns.record(x, evidence(x, 7))).toBe(true);
    expect(edge.node.doubleSigns.record(y, evidence(y, 8))).toBe(true);
    const all = await ask<{ producer: string }[]>('getdoublesignevidence');
    expect(all.map((e) => e.producer).sort()).toEqual([toHex(x), toHex(y)].sort());
    expect(await ask('getdoublesignevidence', [toHex(x)])).toEqual([evidence(x, 7)]);
    expect(await ask('getdoublesignevidence', [toHex(devnetNodeKey(2).publicKey)])).toEqual([]);
  });

  it('a node started with test switches (devnet) offers test_setbehaviour', async () => {
    expect(await ask<string[]>('help')).toContain('test_setbehaviour changes');
    expect(await ask('test_setbehaviour', [{ silent: false }])).toBeDefined();
  });
});
