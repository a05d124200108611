import { afterEach, describe, expect, it } from 'vitest';
import { devnetMasternodes, genesisBlock } from '../../../src/chain/genesis.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import { toHex } from '../../../src/encoding/bytes.js';
import {
  DoubleSignDetector,
  MAX_KEYS,
  MAX_PER_KEY,
  SLOT_HORIZON,
} from '../../../src/node/double-sign-detector.js';
import { DEVNET } from '../../../src/params/networks.js';
import {
  type Block,
  decodeBlock,
  decodeBlockHeader,
  encodeBlock,
  headerHash,
} from '../../../src/protocol/block.js';
import { headerSigMessage } from '../../../src/protocol/signing.js';
import { ChainStore } from '../../../src/storage/chain-store.js';
import type { DoubleSignEvidence } from '../../../src/storage/double-sign-store.js';
import { sign } from '../../../src/wallet/keys.js';
import { nextBlockOn } from '../../support/block-builder.js';
import { tempDir } from '../storage/temp-dir.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A detector over a real store. Signatures are checked by @noble and counted (honest traffic, one
 * header per slot, must cost none); `held` verifications (by signature) wait until `gate` resolves.
 */
async function setup(gate?: Promise<void>, held: (signature: Uint8Array) => boolean = () => true) {
  const { dir, cleanup } = tempDir('double-sign-');
  const store = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
  cleanups.push(cleanup, () => store.close());
  const found: DoubleSignEvidence[] = [];
  const noble = new NobleVerifier();
  const verified = { count: 0 };
  const verifier = {
    verifyBatch: async (items: Parameters<NobleVerifier['verifyBatch']>[0]) => {
      verified.count += items.length;
      if (items.some((i) => held(i.signature))) await gate;
      return noble.verifyBatch(items);
    },
  } as unknown as NobleVerifier;
  const detector = new DoubleSignDetector({
    verifier,
    store: store.doubleSigns(),
    now: () => 1_000,
    onEvidence: (e) => found.push(e),
  });
  return { dir, store, detector, found, verified };
}

/** The same header with another timestamp, signed by `secretKey` (a rival for the same slot). */
function rival(block: Block, secretKey: Uint8Array | undefined, tweak = 1): Block {
  const header = { ...block.header, timestampMs: block.header.timestampMs + tweak };
  const signature = secretKey ? sign(headerSigMessage(headerHash(header)), secretKey) : new Uint8Array(64);
  return { header, signature, txs: block.txs };
}

const keyOf = (b: Block) =>
  devnetMasternodes().find((m) => toHex(m.nodeKey.publicKey) === toHex(b.header.producerPubkey))!.nodeKey;

describe('DoubleSignDetector (real LMDB, real signatures)', () => {
  it('two headers of one slot signed by one producer: evidence stored once, re-checkable, survives a reopen', async () => {
    const { dir, store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    const other = rival(block, keyOf(block).secretKey);
    expect(await detector.observe(block, headerHash(block.header))).toBeUndefined();
    const e = await detector.observe(other, headerHash(other.header));
    expect(e).toBeDefined();
    expect(found).toHaveLength(1);
    expect(e!.producer).toBe(toHex(block.header.producerPubkey));
    expect(e!.slot).toBe(block.header.slot);
    const hashes = [toHex(headerHash(block.header)), toHex(headerHash(other.header))].sort();
    expect(e!.hashes).toEqual(hashes);
    // The stored headers hash to the stored hashes and carry the producer's valid signatures.
    for (let i = 0; i < 2; i++) {
      const h = decodeBlockHeader(Buffer.from(e!.headers[i]!, 'hex'));
      expect(toHex(headerHash(h.header))).toBe(e!.hashes[i]);
      expect(
        await new NobleVerifier().verifyBatch([
          {
            publicKey: h.header.producerPubkey,
            message: headerSigMessage(headerHash(h.header)),
            signature: h.signature,
          },
        ]),
      ).toEqual([true]);
    }
    // A third header for the same slot adds no second record.
    const third = rival(block, keyOf(block).secretKey, 2);
    expect(await detector.observe(third, headerHash(third.header))).toBeUndefined();
    expect(found).toHaveLength(1);
    await store.close();
    const reopened = await ChainStore.open(dir, DEVNET, genesisBlock(DEVNET));
    cleanups.push(() => reopened.close());
    expect(reopened.doubleSigns().list(block.header.producerPubkey)).toEqual([e]);
    expect(reopened.doubleSigns().list()).toHaveLength(1);
  });

  it('a rival header with a forged signature is not evidence, and does not hide a real one that follows', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    await detector.observe(block, headerHash(block.header));
    const forged = rival(block, undefined);
    expect(await detector.observe(forged, headerHash(forged.header))).toBeUndefined();
    expect(found).toHaveLength(0);
    const real = rival(block, keyOf(block).secretKey, 3);
    expect(await detector.observe(real, headerHash(real.header))).toBeDefined();
    expect(found).toHaveLength(1);
  });

  it('a forged header that arrives while others are being checked is never counted unchecked', async () => {
    // The real header and a forgery are checked; a second forgery arrives meanwhile, and its own
    // check is held. When the first checks end, the first forgery is dropped: the second, not yet
    // checked, must not stand in as the real header's rival.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const secondSig = new Uint8Array(64).fill(2);
    const { store, detector, found } = await setup(gate, (sig) => toHex(sig) === toHex(secondSig));
    const { block } = nextBlockOn(store, []);
    await detector.observe(block, headerHash(block.header));
    const first = rival(block, undefined, 1);
    const second = { ...rival(block, undefined, 2), signature: secondSig };
    const checking = detector.observe(first, headerHash(first.header));
    const arriving = detector.observe(second, headerHash(second.header));
    expect(await checking).toBeUndefined();
    expect(found).toHaveLength(0);
    open();
    expect(await arriving).toBeUndefined();
    expect(found).toHaveLength(0);
    expect(store.doubleSigns().count).toBe(0);
  });

  it('the same block seen twice, or one block per slot, is never evidence', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    await detector.observe(block, headerHash(block.header));
    await detector.observe(block, headerHash(block.header));
    expect(found).toHaveLength(0);
    expect(store.doubleSigns().count).toBe(0);
  });

  it('forged headers for a slot cannot fill its places: the real rival after many forgeries is still caught', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    await detector.observe(block, headerHash(block.header));
    // More forgeries than the per-slot places (4), each with a bad signature.
    for (let i = 1; i <= 6; i++) {
      const forged = rival(block, undefined, i);
      expect(await detector.observe(forged, headerHash(forged.header))).toBeUndefined();
    }
    expect(found).toHaveLength(0);
    const real = rival(block, keyOf(block).secretKey, 10);
    expect(await detector.observe(real, headerHash(real.header))).toBeDefined();
    expect(found).toHaveLength(1);
  });

  it('keeps its own copy of a header: the received frame may be reused (and is not kept alive)', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    const wire = Buffer.from(encodeBlock(block)); // as blocks arrive: a Buffer, whose .slice is a view
    const received = decodeBlock(wire, DEVNET.maxBlockBytes);
    await detector.observe(received, headerHash(received.header));
    wire.fill(0x5a); // the receive buffer is reused for the next frame
    const other = rival(block, keyOf(block).secretKey);
    expect(await detector.observe(other, headerHash(other.header))).toBeDefined();
    expect(found).toHaveLength(1);
  });

  it('forgets headers more than 256 slots behind the newest once over 512 (producer, slot) keys', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    const secret = keyOf(block).secretKey;
    const at = (slot: number, tweak = 0): Block => {
      const header = { ...block.header, slot, timestampMs: block.header.timestampMs + tweak };
      return { header, signature: sign(headerSigMessage(headerHash(header)), secret), txs: [] };
    };
    const s0 = block.header.slot;
    // 521 slots of one header each, s0 … s0 + 520: the map passes 512 keys at s0 + 512.
    for (let s = s0; s <= s0 + 520; s++) {
      const b = at(s);
      await detector.observe(b, headerHash(b.header));
    }
    // s0 is far behind: forgotten, so its rival is the first header seen for it (no evidence).
    const earlyRival = at(s0, 7);
    expect(await detector.observe(earlyRival, headerHash(earlyRival.header))).toBeUndefined();
    // s0 + 300 is within 256 slots of the newest: still remembered, so its rival is evidence.
    const recentRival = at(s0 + 300, 7);
    expect(await detector.observe(recentRival, headerHash(recentRival.header))).toBeDefined();
    expect(found.map((e) => e.slot)).toEqual([s0 + 300]);
  });

  it(`holds at most MAX_KEYS (${MAX_KEYS}) keys in one slot: the lowest slot goes first, never the newest key`, async () => {
    const { store, detector, verified } = await setup();
    const { block } = nextBlockOn(store, []);
    const s0 = block.header.slot;
    const forged = (slot: number, i: number): Block => {
      const producerPubkey = new Uint8Array(32);
      new DataView(producerPubkey.buffer).setUint32(0, i);
      return { header: { ...block.header, slot, producerPubkey }, signature: new Uint8Array(64), txs: [] };
    };
    // One key of an older slot, then more fresh keys in the newest slot than the cap.
    const old = forged(s0 - 1, 0);
    await detector.observe(old, headerHash(old.header));
    for (let i = 1; i <= MAX_KEYS + 10; i++) {
      const b = forged(s0, i);
      await detector.observe(b, headerHash(b.header));
      expect(detector.remembered).toBeLessThanOrEqual(MAX_KEYS);
    }
    expect(detector.remembered).toBe(MAX_KEYS);
    // The older slot's key went first: a second header for it is a first one again (nothing to
    // check), while the newest key is still held: its second header makes a pair to check.
    const { count } = verified;
    const oldAgain = forged(s0 - 1, 0);
    await detector.observe(
      { ...oldAgain, header: { ...oldAgain.header, timestampMs: 1 } },
      new Uint8Array(32).fill(1),
    );
    expect(verified.count).toBe(count);
    // Held now although its slot is the lowest (the key just added is never the one to go): one
    // more header for it makes a pair.
    await detector.observe(
      { ...oldAgain, header: { ...oldAgain.header, timestampMs: 3 } },
      new Uint8Array(32).fill(3),
    );
    expect(verified.count).toBe(count + 2);
    const last = forged(s0, MAX_KEYS + 10);
    await detector.observe(
      { ...last, header: { ...last.header, timestampMs: 1 } },
      new Uint8Array(32).fill(2),
    );
    expect(verified.count).toBe(count + 4);
    expect(detector.remembered).toBeLessThanOrEqual(MAX_KEYS);
  });

  it('checks signatures only for a second header of a slot, once each, and not after evidence is stored', async () => {
    const { store, detector, found, verified } = await setup();
    const { block } = nextBlockOn(store, []);
    const secret = keyOf(block).secretKey;
    await detector.observe(block, headerHash(block.header));
    expect(verified.count).toBe(0);
    const forged = rival(block, undefined);
    await detector.observe(forged, headerHash(forged.header));
    expect(verified.count).toBe(2);
    // The first header was checked already: only the newcomer is.
    const real = rival(block, secret, 3);
    expect(await detector.observe(real, headerHash(real.header))).toBeDefined();
    expect(verified.count).toBe(3);
    // Evidence for the slot is stored: a further rival costs nothing.
    const more = rival(block, secret, 4);
    expect(await detector.observe(more, headerHash(more.header))).toBeUndefined();
    expect(verified.count).toBe(3);
    expect(found).toHaveLength(1);
  });

  it('forgeries that arrive before any real header cannot fill the places of the slot either', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    for (let i = 1; i <= 6; i++) {
      const forged = rival(block, undefined, i);
      expect(await detector.observe(forged, headerHash(forged.header))).toBeUndefined();
    }
    await detector.observe(block, headerHash(block.header));
    const real = rival(block, keyOf(block).secretKey, 10);
    expect(await detector.observe(real, headerHash(real.header))).toBeDefined();
    expect(found).toHaveLength(1);
  });

  it('genesis (height 0) is never evidence, whoever signed two versions of it', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    const secret = keyOf(block).secretKey;
    const g = (tweak: number): Block => {
      const header = { ...block.header, height: 0, timestampMs: block.header.timestampMs + tweak };
      return { header, signature: sign(headerSigMessage(headerHash(header)), secret), txs: [] };
    };
    for (const b of [g(0), g(1)]) expect(await detector.observe(b, headerHash(b.header))).toBeUndefined();
    expect(found).toHaveLength(0);
  });

  it('prunes only past 512 keys, and keeps the slot exactly 256 behind the newest', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    const secret = keyOf(block).secretKey;
    const s0 = block.header.slot;
    const at = (slot: number, tweak = 0, signed = true): Block => {
      const header = { ...block.header, slot, timestampMs: block.header.timestampMs + tweak };
      const signature = signed ? sign(headerSigMessage(headerHash(header)), secret) : new Uint8Array(64);
      return { header, signature, txs: [] };
    };
    // One header per slot is never checked, so fillers need no signature.
    const observe = (b: Block) => detector.observe(b, headerHash(b.header));
    await observe(at(s0));
    await observe(at(s0 + 256));
    for (let s = s0 + 1; s <= s0 + 511; s++) if (s !== s0 + 256) await observe(at(s, 0, false));
    // Exactly 512 keys: nothing forgotten, s0 is still remembered.
    expect(await observe(at(s0, 7))).toBeDefined();
    // The 513th key prunes: slots more than 256 behind s0 + 512 go, s0 + 256 stays.
    await observe(at(s0 + 512, 0, false));
    expect(await observe(at(s0 + 256, 7))).toBeDefined();
    expect(found.map((e) => e.slot)).toEqual([s0, s0 + 256]);
  });
});

describe('DoubleSignDetector memory: what a producer can make it hold', () => {
  /** The header moved to `slot` (unsigned: a lone header per key is never verified). */
  const atSlot = (b: Block, slot: number): Block => ({
    header: { ...b.header, slot },
    signature: new Uint8Array(64),
    txs: b.txs,
  });

  it('keeps at most MAX_PER_KEY headers of one slot, however many a double-signer signs', async () => {
    const { store, detector, found } = await setup();
    const { block } = nextBlockOn(store, []);
    const key = keyOf(block).secretKey;
    for (let tweak = 0; tweak < 3 * MAX_PER_KEY; tweak++) {
      const b = tweak === 0 ? block : rival(block, key, tweak);
      await detector.observe(b, headerHash(b.header));
    }
    expect(found).toHaveLength(1);
    expect(detector.remembered).toBe(MAX_PER_KEY);
  });

  it('forgets slots behind the newest by the horizon, and an old header does not pull the horizon back', async () => {
    const { store, detector } = await setup();
    const { block } = nextBlockOn(store, []);
    const newest = 10 * SLOT_HORIZON;
    await detector.observe(atSlot(block, newest), headerHash(atSlot(block, newest).header));
    // More old keys than the pruning threshold (2 × horizon), all far behind the newest slot.
    const old = 2 * SLOT_HORIZON + 50;
    for (let slot = 1; slot <= old; slot++) {
      const b = atSlot(block, slot);
      await detector.observe(b, headerHash(b.header));
    }
    expect(detector.remembered).toBe(old + 1);
    // The next newer slot prunes against the newest slot seen, not against the last one observed.
    const next = atSlot(block, newest + 1);
    await detector.observe(next, headerHash(next.header));
    expect(detector.remembered).toBe(2);
  });
});
