import { z } from 'zod';
import { fromHex, toHex } from '../encoding/bytes.js';
import { MempoolError } from '../ledger/mempool-errors.js';
import { TxError } from '../ledger/tx-errors.js';
import { decodeAddress } from '../protocol/address.js';
import { decodeBlock, decodeBlockHeader, headerHash } from '../protocol/block.js';
import { P, RPC_ERROR, type RpcDispatcher, RpcError, type RpcMethod } from '../rpc/json-rpc.js';
import { CodedError } from '../util/coded-error.js';
import { PROTOCOL_VERSION } from '../wire/limits.js';
import { amount, registerAddressRpc } from './address-rpc.js';
import type { TimeNode } from './node.js';

/** Node software version reported over RPC and in logs. */
export const NODE_VERSION = '0.1.0';

function txidParam(params: Record<string, unknown>): Uint8Array {
  return fromHex(params['txid'] as string, 32);
}

/** Maps a submission failure to bitcoind's codes; data.code keeps the node's typed code. */
function submitError(err: unknown): never {
  if (err instanceof TxError) {
    if (err.code === 'MALFORMED')
      throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, err.message, { code: err.code, ...err.details });
    throw new RpcError(RPC_ERROR.VERIFY_ERROR, err.message, { code: err.code, ...err.details });
  }
  if (err instanceof MempoolError)
    throw new RpcError(RPC_ERROR.VERIFY_REJECTED, err.message, { code: err.code, ...err.details });
  // IntakeError (INTAKE_BUSY, SHUTTING_DOWN) and any other typed refusal: the node cannot do it now.
  if (err instanceof CodedError) throw new RpcError(RPC_ERROR.MISC_ERROR, err.message, { code: err.code });
  throw err;
}

/** The node's JSON-RPC methods (DESIGN §9). Field names follow bitcoind where it has the concept. */
export function registerNodeRpc(d: RpcDispatcher, node: TimeNode): void {
  const m = (method: RpcMethod) => d.register(method);
  // The genesis hash never changes: decoding block 0 (with its allocation transaction) on every
  // getblockchaininfo cost more than the rest of the answer.
  let genesis: string | undefined;
  const genesisHash = () => {
    genesis ??= toHex(headerHash(decodeBlockHeader(node.store.getBlockBytes(0)!).header));
    return genesis;
  };

  m({
    name: 'help',
    summary: 'Lists the methods, or describes one',
    params: [{ name: 'command', schema: z.string().max(64), optional: true, description: 'a method name' }],
    handler: (p) => {
      const name = p['command'] as string | undefined;
      if (name === undefined)
        return d
          .list()
          .map((x) =>
            `${x.name} ${x.params.map((q) => (q.optional ? `[${q.name}]` : q.name)).join(' ')}`.trim(),
          );
      const method = d.get(name);
      if (!method) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `no method ${name}`);
      return {
        name: method.name,
        summary: method.summary,
        params: method.params.map((q) => ({
          name: q.name,
          optional: q.optional === true,
          description: q.description,
        })),
      };
    },
  });

  m({
    name: 'uptime',
    summary: 'Seconds since the node started',
    params: [],
    handler: () => Math.floor((node.now() - node.startedAtMs) / 1000),
  });

  m({
    name: 'stop',
    summary: 'Stops the node cleanly (as SIGTERM does)',
    params: [],
    handler: () => {
      setImmediate(() => node.requestStop());
      return 'timecoin node stopping';
    },
  });

  m({
    name: 'getnetworkinfo',
    summary: 'Version, protocol and connection counts',
    params: [],
    handler: () => {
      const peers = node.p2p.peers();
      const inbound = peers.filter((x) => x.direction === 'inbound').length;
      return {
        version: NODE_VERSION,
        subversion: `/timecoin-ts:${NODE_VERSION}/`,
        protocolversion: PROTOCOL_VERSION,
        network: node.params.network,
        chainid: node.params.chainId,
        nodeid: node.nodeId,
        p2pport: node.p2pPort,
        connections: peers.length,
        connections_in: inbound,
        connections_out: peers.length - inbound,
        relayfee: amount(node.params.minRelayFeePerKb),
      };
    },
  });

  m({
    name: 'getpeerinfo',
    summary: 'The connected, authenticated peers',
    params: [],
    handler: () =>
      node.p2p.peers().map((peer) => ({
        id: peer.peerId,
        addr: `${peer.host}:${peer.listenPort}`,
        inbound: peer.direction === 'inbound',
        masternode: node.validators.isActive(peer.peerId),
        startingheight: peer.tipHeight,
      })),
  });

  m({
    name: 'getmempoolinfo',
    summary: 'Mempool counts and limits',
    params: [],
    handler: () => {
      const mp = node.ledger.mempool;
      return {
        size: mp.count,
        bytes: mp.totalBytes,
        processing: node.engine.processingCount,
        finalized: mp.count - mp.processingCount,
        orphans: node.orphans.size,
        maxcount: mp.limits.maxCount,
        maxbytes: mp.limits.maxBytes,
        minrelaytxfee: amount(node.params.minRelayFeePerKb),
      };
    },
  });

  m({
    name: 'getrawmempool',
    summary: 'Txids in the mempool; verbose: status, size, fee of each',
    params: [{ name: 'verbose', schema: P.bool, optional: true, description: 'objects instead of txids' }],
    handler: (p) => {
      const mp = node.ledger.mempool;
      const all = [...mp.processing(), ...mp.finalized()];
      if (p['verbose'] !== true) return all.map((e) => toHex(e.txid));
      const out: Record<string, unknown> = {};
      for (const etx of all) {
        const e = mp.get(etx.txid)!;
        out[toHex(etx.txid)] = { status: e.status, size: etx.bytes.length, fee: amount(e.fee) };
      }
      return out;
    },
  });

  m({
    name: 'sendrawtransaction',
    summary: 'Submits a signed transaction (hex); returns its txid once it is processing',
    params: [
      { name: 'hexstring', schema: P.hex.max(2 * 200_000), description: 'the serialized transaction' },
    ],
    handler: async (p) => {
      let outcome: Awaited<ReturnType<TimeNode['submitTx']>>;
      try {
        outcome = await node.submitTx(fromHex(p['hexstring'] as string));
      } catch (err) {
        submitError(err);
      }
      if (outcome.standing === 'in-block')
        throw new RpcError(RPC_ERROR.ALREADY_IN_CHAIN, 'transaction already in a block', {
          txid: toHex(outcome.txid),
        });
      if (outcome.standing === 'rejected')
        throw new RpcError(
          RPC_ERROR.VERIFY_REJECTED,
          'transaction was rejected (a conflicting one is final)',
          {
            code: 'ALREADY_REJECTED',
            txid: toHex(outcome.txid),
          },
        );
      return toHex(outcome.txid);
    },
  });

  m({
    name: 'gettransactionfinality',
    summary: 'Where a transaction stands: processing, finalized, in-block, rejected or unknown',
    params: [{ name: 'txid', schema: P.hex32, description: 'the transaction id' }],
    handler: (p) => {
      const txid = txidParam(p);
      const status = node.intake.standing(txid);
      const height = node.store.getTxHeight(txid);
      return {
        txid: toHex(txid),
        status,
        final: status === 'finalized' || status === 'in-block',
        ...(height !== undefined ? { height } : {}),
      };
    },
  });

  m({
    name: 'waittransactionfinality',
    summary: 'Waits until a transaction is final or rejected, or the timeout (ms, default 10,000) passes',
    params: [
      { name: 'txid', schema: P.hex32, description: 'the transaction id' },
      { name: 'timeout', schema: P.timeoutMs, optional: true, description: 'milliseconds, at most 600,000' },
    ],
    handler: async (p, ctx) => {
      const txid = txidParam(p);
      const started = node.now();
      const now = node.intake.standing(txid);
      let status: string = now;
      if (now === 'processing' || now === 'unknown') {
        const outcome = await node.waiters.wait(
          txid,
          (p['timeout'] as number | undefined) ?? 10_000,
          ctx.signal,
        );
        status = outcome === 'timeout' ? node.intake.standing(txid) : outcome;
      }
      return {
        txid: toHex(txid),
        status,
        final: status === 'finalized' || status === 'in-block',
        waitedms: node.now() - started,
      };
    },
  });

  m({
    name: 'getrawtransaction',
    summary: 'A transaction from the mempool or the chain, hex (or decoded with verbose)',
    params: [
      { name: 'txid', schema: P.hex32, description: 'the transaction id' },
      { name: 'verbose', schema: P.bool, optional: true, description: 'decoded fields as well' },
    ],
    handler: (p) => {
      const txid = txidParam(p);
      const entry = node.ledger.mempool.get(txid);
      let etx = entry?.etx;
      const height = node.store.getTxHeight(txid);
      if (!etx && height !== undefined)
        etx = node.store.getBlock(height)?.txs.find((t) => toHex(t.txid) === toHex(txid));
      if (!etx) throw new RpcError(RPC_ERROR.NOT_FOUND, 'no such transaction in the mempool or the chain');
      const hex = toHex(etx.bytes);
      if (p['verbose'] !== true) return hex;
      const tx = etx.tx;
      return {
        txid: toHex(txid),
        hex,
        size: etx.bytes.length,
        status: node.intake.standing(txid),
        ...(height !== undefined ? { height } : {}),
        vin: tx.inputs.map((i) => ({ txid: toHex(i.txid), vout: i.vout })),
        vout: tx.outputs.map((o, n) => ({ n, ...amount(o.value), address: toHex(o.address) })),
        locktime: tx.lockTime,
        payload: tx.payload?.kind ?? null,
      };
    },
  });

  m({
    name: 'getconsensusinfo',
    summary: 'Snowball state: role, parameters, processing count, polls, reachable stake',
    params: [],
    handler: () => ({
      role: node.role,
      nodeid: node.nodeId,
      snowball: node.params.snowball,
      polltimeoutms: node.params.pollTimeoutMs,
      concurrentpolls: node.params.concurrentPolls,
      processing: node.engine.processingCount,
      pollsinflight: node.poller.inFlight,
      activeweight: node.validators.activeWeight,
      reachableweight: node.validators.reachableWeight(),
      quorum: node.validators.quorumMet(),
      finalityhalted: node.finalizer.isHalted,
      masternodes: node.validators.activeIds(),
      eventloopdelayms: node.metrics.eventLoopDelayMs(),
    }),
  });

  m({
    name: 'getblockchaininfo',
    summary: 'Chain name, height and best block',
    params: [],
    handler: () => {
      const tip = node.store.tip();
      return {
        chain: node.params.network,
        chainid: node.params.chainId,
        blocks: tip.height,
        bestblockhash: toHex(tip.hash),
        bestslot: tip.slot,
        genesis: genesisHash(),
      };
    },
  });

  m({
    name: 'getblockhash',
    summary: 'Hash of the main-chain block at a height',
    params: [{ name: 'height', schema: P.height, description: 'block height' }],
    handler: (p) => {
      const bytes = node.store.getBlockBytes(p['height'] as number);
      if (!bytes) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'block height out of range');
      return toHex(headerHash(decodeBlockHeader(bytes).header));
    },
  });

  m({
    name: 'getblock',
    summary: 'A main-chain block by hash: verbosity 0 hex, 1 header and txids (default), 2 with transactions',
    params: [
      { name: 'blockhash', schema: P.hex32, description: 'block hash' },
      { name: 'verbosity', schema: z.number().int().min(0).max(2), optional: true, description: '0, 1 or 2' },
    ],
    handler: (p) => {
      const hash = fromHex(p['blockhash'] as string, 32);
      const height = node.store.getHeight(hash);
      const bytes = height === undefined ? undefined : node.store.getBlockBytes(height);
      if (height === undefined || !bytes) throw new RpcError(RPC_ERROR.NOT_FOUND, 'block not found');
      const verbosity = (p['verbosity'] as number | undefined) ?? 1;
      if (verbosity === 0) return toHex(bytes);
      const block = decodeBlock(bytes, node.params.maxBlockBytes);
      const h = block.header;
      const tip = node.store.tip().height;
      return {
        hash: toHex(hash),
        confirmations: tip - height + 1,
        height,
        version: h.version,
        slot: h.slot,
        time: h.timestampMs,
        previousblockhash: toHex(h.prevHash),
        ...(height < tip
          ? {
              nextblockhash: toHex(
                headerHash(decodeBlockHeader(node.store.getBlockBytes(height + 1)!).header),
              ),
            }
          : {}),
        merkleroot: toHex(h.merkleRoot),
        witnessroot: toHex(h.witnessRoot),
        producer: toHex(h.producerPubkey),
        rank: h.rank,
        beacon: toHex(h.beaconY),
        size: bytes.length,
        nTx: block.txs.length,
        tx:
          verbosity === 1
            ? block.txs.map((t) => toHex(t.txid))
            : block.txs.map((t) => ({
                txid: toHex(t.txid),
                hex: toHex(t.bytes),
                vin: t.tx.inputs.map((i) => ({ txid: toHex(i.txid), vout: i.vout })),
                vout: t.tx.outputs.map((o, n) => ({ n, ...amount(o.value), address: toHex(o.address) })),
                locktime: t.tx.lockTime,
              })),
      };
    },
  });

  m({
    name: 'getbestblockhash',
    summary: 'Hash of the chain tip',
    params: [],
    handler: () => toHex(node.store.tip().hash),
  });

  m({
    name: 'validateaddress',
    summary: 'Checks an address for this network',
    params: [{ name: 'address', schema: z.string().max(64), description: 'a TIME address' }],
    handler: (p) => {
      try {
        const a = decodeAddress(p['address'] as string, node.params.addressDigit);
        return { isvalid: true, address: p['address'], payload: toHex(a.payload) };
      } catch (err) {
        return { isvalid: false, error: err instanceof CodedError ? err.code : 'INVALID' };
      }
    },
  });

  registerAddressRpc(d, node);
  m({
    name: 'listbanned',
    summary: 'Bans in force: node keys (64 hex) and addresses (32 hex), with reason and expiry',
    params: [],
    handler: () =>
      node.store
        .peerBans()
        .list(Date.now())
        .map(({ pubkey, record }) => ({
          key: pubkey,
          reason: record.reason,
          bannedat: record.bannedAtMs,
          banneduntil: record.untilMs,
        })),
  });

  m({
    name: 'getdoublesignevidence',
    summary:
      'Double-sign evidence held here: two signed headers of one slot by one producer (all, or one producer)',
    params: [{ name: 'producer', schema: P.hex32, optional: true, description: "the producer's node key" }],
    handler: (p) => {
      const producer = p['producer'] === undefined ? undefined : fromHex(p['producer'] as string, 32);
      return node.doubleSigns.list(producer);
    },
  });

  if (node.switches.enabled) {
    m({
      name: 'test_setbehaviour',
      summary:
        'TEST ONLY (devnet, --test-switches): switch behaviours: silent, equivocate, alwaysNo, doubleSign, withhold, spam, wrongBeacon',
      params: [
        { name: 'changes', schema: z.record(z.string(), z.unknown()), description: 'switches to set' },
      ],
      handler: (p) => node.switches.set(p['changes'] as Record<string, unknown>),
    });
  }
}
