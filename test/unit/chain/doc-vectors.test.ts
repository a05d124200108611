import { describe, expect, it } from 'vitest';
import { beaconInput } from '../../../src/beacon/beacon-input.js';
import { leaderAtRank } from '../../../src/beacon/leader-ranking.js';
import { assembleBlock } from '../../../src/chain/block-assembly.js';
import { parseBlock, validateBlock } from '../../../src/chain/block-validation.js';
import { compareBranches, type ForkBlock } from '../../../src/chain/fork-choice.js';
import { devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { rankingWeights } from '../../../src/chain/header-rules.js';
import { rankWindow } from '../../../src/chain/slot-time.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import { bytesEqual, toHex } from '../../../src/encoding/bytes.js';
import { DEVNET } from '../../../src/params/networks.js';
import { encodeBlock, headerHash } from '../../../src/protocol/block.js';
import { vdfEvaluate, vdfProve } from '../../../src/vdf/vdf.js';
import { inlineBeacons } from '../../support/block-builder.js';
import { devnetLedger, genesisMasternodes } from '../../support/devnet-ledger.js';
import { docVectors } from '../../support/doc-vectors.js';

/** docs/protocol.md "Fork choice": the vector tree's order and the vector block, recomputed. */
const { all, vector } = docVectors();

describe('docs/protocol.md fork-choice vectors', () => {
  it('orders the vector tree’s branches as documented', () => {
    const tree = new Map<string, { parent: string; block: ForkBlock }>();
    for (const [name, value] of all) {
      if (!name.startsWith('fork.tree.')) continue;
      const [parent, rank, timeliness, hashByte] = value.split(',');
      expect(['timely', 'late']).toContain(timeliness);
      tree.set(name.slice('fork.tree.'.length), {
        parent: parent!,
        block: {
          hash: new Uint8Array(32).fill(Number.parseInt(hashByte!, 16)),
          rank: Number(rank),
          timely: timeliness === 'timely',
        },
      });
    }
    const pathOf = (leaf: string): { name: string; block: ForkBlock }[] => {
      const path = [];
      for (let n = leaf; n !== 'G'; n = tree.get(n)!.parent)
        path.unshift({ name: n, block: tree.get(n)!.block });
      return path;
    };
    const parents = new Set([...tree.values()].map((b) => b.parent));
    const leaves = [...tree.keys()].filter((n) => !parents.has(n));
    // Two leaves are compared from their first differing block on (common prefix stripped).
    const compareLeaves = (x: string, y: string): number => {
      const a = pathOf(x);
      const b = pathOf(y);
      let i = 0;
      while (i < a.length && i < b.length && a[i]!.name === b[i]!.name) i++;
      return compareBranches(
        a.slice(i).map((p) => p.block),
        b.slice(i).map((p) => p.block),
      );
    };
    // Antisymmetric on every pair, so the order is well defined.
    for (const x of leaves)
      for (const y of leaves) expect(Math.sign(compareLeaves(x, y)) + Math.sign(compareLeaves(y, x))).toBe(0);
    expect(leaves.sort(compareLeaves).join(',')).toBe(vector('fork.order'));
  });

  it('rebuilds the vector block byte for byte, and it is valid on genesis', async () => {
    const genesis = genesisBlock(DEVNET);
    const genesisHash = headerHash(genesis.header);
    const ledger = devnetLedger();
    const active = genesisMasternodes(ledger);
    const x = beaconInput(DEVNET.chainId, 1, genesisHash);
    const out = vdfEvaluate(x, DEVNET.vdfDelay);
    const leader = leaderAtRank(rankingWeights(DEVNET, active), out.y, 0)!;
    const producerKey = devnetMasternodes().find((m) =>
      bytesEqual(m.nodeKey.publicKey, leader.nodePubkey),
    )!.nodeKey;
    const block = assembleBlock({
      params: DEVNET,
      parent: { hash: genesisHash, height: 0, slot: 0 },
      slot: 1,
      nowMs: rankWindow(DEVNET, 1, 0).startMs,
      activeMasternodes: active,
      beaconY: out.y,
      beaconProof: vdfProve(x, out),
      producerKey,
      view: ledger,
      candidates: [],
    });
    const bytes = encodeBlock(block);
    expect(toHex(bytes.subarray(0, 688))).toBe(vector('block.devnet1.header'));
    expect(toHex(headerHash(block.header))).toBe(vector('block.devnet1.hash'));
    expect(toHex(block.signature)).toBe(vector('block.devnet1.signature'));
    expect(toHex(block.txs[0]!.bytes)).toBe(vector('block.devnet1.coinbase'));
    expect(block.header.timestampMs).toBe(DEVNET.genesisTimeMs + DEVNET.slotMs);
    // The documented bytes (header ‖ signature ‖ coinbase) decode to a block validateBlock accepts.
    const documented = Buffer.from(
      vector('block.devnet1.header') + vector('block.devnet1.signature') + vector('block.devnet1.coinbase'),
      'hex',
    );
    const decoded = parseBlock(new Uint8Array(documented), DEVNET);
    const validated = await validateBlock(decoded, {
      params: DEVNET,
      parent: { hash: genesisHash, height: 0, slot: 0 },
      view: ledger,
      verifier: new NobleVerifier(),
      anchorHash: genesisHash,
      activeMasternodes: active,
      beacons: inlineBeacons(DEVNET),
    });
    expect(toHex(validated.hash)).toBe(vector('block.devnet1.hash'));
  });
});
