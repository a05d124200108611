import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  DEVNET_OWNER_KEY_BASE,
  DEVNET_SEED,
  type DevnetMasternode,
  devnetMasternodes,
} from '../../../src/chain/genesis.js';
import { NobleVerifier } from '../../../src/crypto/noble-verifier.js';
import { LedgerOverlay } from '../../../src/ledger/ledger-overlay.js';
import { TX_ERROR_CODES, TxError, type TxErrorCode } from '../../../src/ledger/tx-errors.js';
import {
  checkTxStructure,
  MAX_MONEY,
  minimumFee,
  parseTx,
  validateTx,
} from '../../../src/ledger/tx-validation.js';
import { time } from '../../../src/params/units.js';
import { addressPayloadOfPubkey } from '../../../src/protocol/address.js';
import { NO_COLLATERAL, type Transaction } from '../../../src/protocol/transaction.js';
import { type EncodedTx, encodeTx } from '../../../src/protocol/tx-codec.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { deregistrationPayload, registrationPayload, signTx } from '../../../src/wallet/tx-builder.js';
import {
  devnetLedger,
  FUNDED,
  fundedOutpoint,
  key,
  params,
  pay,
  spendFunded,
} from '../../support/devnet-ledger.js';

const verifier = new NobleVerifier();

async function codeOf(etx: EncodedTx, ledger = devnetLedger(), nextHeight = 1): Promise<TxErrorCode | 'OK'> {
  try {
    await validateTx(etx, ledger, params, nextHeight, verifier);
    return 'OK';
  } catch (err) {
    if (err instanceof TxError) return err.code;
    throw err;
  }
}

/** Re-encode a signed transaction with one field changed (witnesses kept as they were). */
function mutate(etx: EncodedTx, change: Partial<Transaction>): EncodedTx {
  return encodeTx({ ...etx.tx, ...change });
}

describe('transaction validity rules (one code per rule)', () => {
  const cases: [TxErrorCode, () => EncodedTx | Promise<EncodedTx>, (() => LedgerOverlay)?, number?][] = [
    ['UNSUPPORTED_VERSION', () => mutate(spendFunded(0, [pay(key(1), time(1))]), { version: 2 })],
    [
      'WRONG_CHAIN',
      () =>
        signTx({ ...params, chainId: 1 }, { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), time(1))] }, [
          key(0),
        ]),
    ],
    [
      'TOO_LARGE',
      () =>
        spendFunded(
          0,
          Array.from({ length: 3_600 }, () => pay(key(1), 10_000n)),
          200_000n,
        ),
    ],
    [
      'NO_INPUTS',
      () => encodeTx({ ...spendFunded(0, [pay(key(1), time(1))]).tx, inputs: [], witnesses: [] }),
    ],
    ['NO_OUTPUTS', () => signTx(params, { inputs: [fundedOutpoint(0)], outputs: [] }, [key(0)])],
    ['WITNESS_COUNT', () => mutate(spendFunded(0, [pay(key(1), time(1))]), { witnesses: [] })],
    [
      'DUPLICATE_INPUT',
      () =>
        signTx(params, { inputs: [fundedOutpoint(0), fundedOutpoint(0)], outputs: [pay(key(1), time(1))] }, [
          key(0),
          key(0),
        ]),
    ],
    ['DUST_OUTPUT', () => spendFunded(0, [pay(key(1), params.dustLimit - 1n)])],
    ['VALUE_OVERFLOW', () => spendFunded(0, [pay(key(1), 1n << 62n), pay(key(1), 1n << 62n)], 0n)],
    ['LOCKTIME', () => spendFunded(0, [pay(key(1), time(1))], 10_000n, { lockTime: 5 })],
    [
      'INPUT_NOT_FOUND',
      () =>
        signTx(params, { inputs: [{ txid: new Uint8Array(32), vout: 0 }], outputs: [pay(key(1), time(1))] }, [
          key(0),
        ]),
    ],
    [
      'INSUFFICIENT_INPUTS',
      () => signTx(params, { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), FUNDED + 1n)] }, [key(0)]),
    ],
    [
      'FEE_TOO_LOW',
      () => signTx(params, { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), FUNDED)] }, [key(0)]),
    ],
    [
      'WITNESS_KEY_MISMATCH',
      () => signTx(params, { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), time(1))] }, [key(1)]),
    ],
    [
      'BAD_SIGNATURE',
      () => {
        const good = spendFunded(0, [pay(key(1), time(1))]);
        const sig = good.tx.witnesses[0]!.signature.slice();
        sig[5] = sig[5]! ^ 1;
        return mutate(good, { witnesses: [{ pubkey: good.tx.witnesses[0]!.pubkey, signature: sig }] });
      },
    ],
  ];

  it('covers every code at least once across this file', () => {
    // The table above plus the payload, maturity and collateral cases below name every code but MALFORMED
    // (a decode error, tested in the codec tests).
    const named = new Set<string>([
      ...cases.map((c) => c[0]),
      'IMMATURE_COINBASE',
      'COLLATERAL_LOCKED',
      'BAD_PAYLOAD',
      'MASTERNODE_EXISTS',
      'REGISTRATION_FEE',
      'MASTERNODE_UNKNOWN',
      'DEREG_UNAUTHORIZED',
      'BAD_NODE_SIGNATURE',
      'BAD_PUBKEY',
      'MALFORMED',
    ]);
    expect([...named].sort()).toEqual([...TX_ERROR_CODES].sort());
  });

  it.each(cases)('%s', async (code, make, ledger, height) => {
    expect(await codeOf(await make(), ledger?.(), height)).toBe(code);
  });

  it('accepts a well-formed spend and reports its fee', async () => {
    const etx = spendFunded(0, [pay(key(1), time(5))], 12_345n);
    const check = await validateTx(etx, devnetLedger(), params, 1, verifier);
    expect(check.fee).toBe(12_345n);
    expect(check.signatures).toHaveLength(1);
  });

  it('requires the minimum relay fee exactly: one sat less fails', async () => {
    const probe = spendFunded(0, [pay(key(1), time(1))], 1n);
    const min = minimumFee(params, probe.bytes.length);
    expect(await codeOf(spendFunded(0, [pay(key(1), time(1))], min))).toBe('OK');
    expect(await codeOf(spendFunded(0, [pay(key(1), time(1))], min - 1n))).toBe('FEE_TOO_LOW');
  });

  it('IMMATURE_COINBASE: coinbase outputs wait coinbaseMaturity blocks', async () => {
    const ledger = devnetLedger();
    const coinbase = encodeTx({
      version: 1,
      chainId: params.chainId,
      inputs: [],
      outputs: [pay(key(2), time(50))],
      lockTime: 7,
      payload: null,
      witnesses: [],
    });
    const atSeven = new LedgerOverlay(ledger, params, 7);
    atSeven.apply(coinbase, { coinbase: true });
    const spend = signTx(
      params,
      { inputs: [{ txid: coinbase.txid, vout: 0 }], outputs: [pay(key(3), time(49))] },
      [key(2)],
    );
    expect(await codeOf(spend, atSeven, 7 + params.coinbaseMaturity - 1)).toBe('IMMATURE_COINBASE');
    const early = await validateTx(spend, atSeven, params, 7 + params.coinbaseMaturity - 1, verifier).catch(
      (e: unknown) => e as TxError,
    );
    expect(early).toMatchObject({
      message: 'IMMATURE_COINBASE: input 0 is a coinbase output from height 7',
      details: { input: 0 },
    });
    expect(await codeOf(spend, atSeven, 7 + params.coinbaseMaturity)).toBe('OK');
  });

  describe('masternode payloads', () => {
    const node = devnetKeyPair(DEVNET_SEED, 9_000);
    const treasury = (value: bigint) => ({ value, address: params.treasuryAddress });
    const register = (
      collateralVout: number,
      collateralValue: bigint,
      nodeKey = node,
      treasuryFee = collateralVout === NO_COLLATERAL ? params.freeRegistrationFee : 0n,
    ) => {
      const input = fundedOutpoint(4);
      const outputs = [
        pay(key(4), collateralValue),
        pay(key(4), FUNDED - collateralValue - treasuryFee - 100_000n),
      ];
      if (treasuryFee > 0n) outputs.push(treasury(treasuryFee));
      return signTx(
        params,
        {
          inputs: [input],
          outputs,
          payload: registrationPayload(params, input, nodeKey, collateralVout, key(4).addressPayload),
        },
        [key(4)],
      );
    };

    it('accepts a bronze registration and a Free one', async () => {
      expect(await codeOf(register(0, params.tiers[1]!.collateral))).toBe('OK');
      expect(await codeOf(register(NO_COLLATERAL, time(1)))).toBe('OK');
    });

    it('REGISTRATION_FEE: a Free registration pays freeRegistrationFee in outputs to the treasury', async () => {
      const fee = params.freeRegistrationFee;
      expect(await codeOf(register(NO_COLLATERAL, time(1), node, fee - 1n))).toBe('REGISTRATION_FEE');
      expect(await codeOf(register(NO_COLLATERAL, time(1), node, 0n))).toBe('REGISTRATION_FEE');
      expect(await codeOf(register(NO_COLLATERAL, time(1), node, fee + 1n))).toBe('OK');
      // A large transaction fee does not count: the producer would collect it.
      const input = fundedOutpoint(4);
      const feeOnly = signTx(
        params,
        {
          inputs: [input],
          outputs: [pay(key(4), FUNDED - 2n * fee)],
          payload: registrationPayload(params, input, node, NO_COLLATERAL, key(4).addressPayload),
        },
        [key(4)],
      );
      expect(await codeOf(feeOnly)).toBe('REGISTRATION_FEE');
      // Collateral tiers pay no registration fee.
      expect(await codeOf(register(0, params.tiers[1]!.collateral, node, 0n))).toBe('OK');
    });

    it('BAD_PAYLOAD: collateral output missing or below the lowest paid tier', async () => {
      expect(await codeOf(register(5, params.tiers[1]!.collateral))).toBe('BAD_PAYLOAD');
      expect(await codeOf(register(0, params.tiers[1]!.collateral - 1n))).toBe('BAD_PAYLOAD');
    });

    it('payload refusals say what is wrong', async () => {
      const messageOf = async (etx: EncodedTx, ledger = devnetLedger(), nextHeight = 1) =>
        validateTx(etx, ledger, params, nextHeight, verifier).then(
          () => 'valid',
          (e: unknown) => (e as Error).message,
        );
      const bronze = params.tiers[1]!.collateral;
      expect(await messageOf(register(5, bronze))).toBe('BAD_PAYLOAD: collateral output 5 does not exist');
      expect(await messageOf(register(0, bronze - 1n))).toBe(
        `BAD_PAYLOAD: collateral ${bronze - 1n} sat is below the lowest paid tier`,
      );
      const short = params.freeRegistrationFee - 1n;
      expect(await messageOf(register(NO_COLLATERAL, time(1), node, short))).toBe(
        `REGISTRATION_FEE: a Free-tier registration pays ${params.freeRegistrationFee} sat to the treasury, this one ${short}`,
      );
      expect(await messageOf(register(0, bronze, devnetMasternodes()[0]!.nodeKey))).toBe(
        'MASTERNODE_EXISTS: this node key is or was registered',
      );
      const input = fundedOutpoint(6);
      const deregister = (nodeKey: Parameters<typeof deregistrationPayload>[2]) =>
        signTx(
          params,
          {
            inputs: [input],
            outputs: [pay(key(6), FUNDED - 100_000n)],
            payload: deregistrationPayload(params, input, nodeKey),
          },
          [key(6)],
        );
      expect(await messageOf(deregister(node))).toBe(
        'MASTERNODE_UNKNOWN: no registration of this node key in a block below this one',
      );
      expect(await messageOf(deregister({ publicKey: devnetMasternodes()[0]!.nodeKey.publicKey }))).toBe(
        'DEREG_UNAUTHORIZED: an unsigned deregistration must spend the collateral',
      );
    });

    it('MASTERNODE_EXISTS: a genesis node key cannot register again', async () => {
      expect(await codeOf(register(0, params.tiers[1]!.collateral, devnetMasternodes()[0]!.nodeKey))).toBe(
        'MASTERNODE_EXISTS',
      );
    });

    it('BAD_NODE_SIGNATURE: the node key must sign the registration', async () => {
      const input = fundedOutpoint(4);
      const payload = registrationPayload(params, input, node, NO_COLLATERAL, key(4).addressPayload);
      const forged = {
        ...payload,
        nodeSignature: registrationPayload(params, input, key(5), NO_COLLATERAL, key(4).addressPayload)
          .nodeSignature,
      };
      const etx = signTx(
        params,
        {
          inputs: [input],
          outputs: [
            pay(key(4), FUNDED - params.freeRegistrationFee - 100_000n),
            treasury(params.freeRegistrationFee),
          ],
          payload: forged,
        },
        [key(4)],
      );
      expect(await codeOf(etx)).toBe('BAD_NODE_SIGNATURE');
    });

    const bootstrapNode = () => devnetMasternodes()[0]!; // Bronze, collateral = genesis registration output 0
    const bootstrapCollateral = (ledger: LedgerOverlay) =>
      ledger.getMasternode(bootstrapNode().nodeKey.publicKey)!.collateral!;

    it('COLLATERAL_LOCKED: a plain spend of a registered collateral is refused', async () => {
      const ledger = devnetLedger();
      const owner = bootstrapNode().ownerKey;
      const etx = signTx(
        params,
        { inputs: [bootstrapCollateral(ledger)], outputs: [pay(owner, time(999))] },
        [owner],
      );
      expect(await codeOf(etx, ledger)).toBe('COLLATERAL_LOCKED');
      // Second input: the refusal names it.
      const two = signTx(
        params,
        { inputs: [fundedOutpoint(6), bootstrapCollateral(ledger)], outputs: [pay(owner, time(999))] },
        [key(6), owner],
      );
      const err = await validateTx(two, ledger, params, 1, verifier).catch((e: unknown) => e as TxError);
      expect(err).toMatchObject({
        message: "COLLATERAL_LOCKED: input 1 is a registered masternode's collateral",
        details: { input: 1 },
      });
    });

    it('an unsigned deregistration that spends the collateral is authorized by the owner', async () => {
      const ledger = devnetLedger();
      const owner = bootstrapNode().ownerKey;
      const input = bootstrapCollateral(ledger);
      const etx = signTx(
        params,
        {
          inputs: [input],
          outputs: [pay(owner, time(999))],
          payload: deregistrationPayload(params, input, { publicKey: bootstrapNode().nodeKey.publicKey }),
        },
        [owner],
      );
      expect(await codeOf(etx, ledger)).toBe('OK');
    });

    it('DEREG_UNAUTHORIZED: unsigned and not spending the collateral', async () => {
      const input = fundedOutpoint(6);
      const etx = signTx(
        params,
        {
          inputs: [input],
          outputs: [pay(key(6), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, input, { publicKey: bootstrapNode().nodeKey.publicKey }),
        },
        [key(6)],
      );
      expect(await codeOf(etx)).toBe('DEREG_UNAUTHORIZED');
    });

    it('MASTERNODE_UNKNOWN: a deregistration waits until its registration is in a block', async () => {
      // Registration finalized but not yet in a block: the overlay holds it at the next height.
      const ledger = devnetLedger();
      const pending = new LedgerOverlay(ledger, params, 1);
      const reg = register(NO_COLLATERAL, time(1));
      pending.apply(reg);
      expect(pending.getMasternode(node.publicKey)?.registeredHeight).toBe(1);
      const dereg = signTx(
        params,
        {
          inputs: [fundedOutpoint(6)],
          outputs: [pay(key(6), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, fundedOutpoint(6), node),
        },
        [key(6)],
      );
      expect(await codeOf(dereg, pending, 1)).toBe('MASTERNODE_UNKNOWN');
      // Once the registration's block (height 1) is below the next height, it may deregister.
      expect(await codeOf(dereg, pending, 2)).toBe('OK');
    });

    it('DEREG_UNAUTHORIZED: spending another output of the registration (same txid, other vout) is not the collateral', async () => {
      // The registration pays its collateral at vout 0 and change at vout 1: whoever holds the
      // change must not be able to deregister the node by spending it.
      const pending = new LedgerOverlay(devnetLedger(), params, 1);
      const reg = register(0, params.tiers[1]!.collateral);
      pending.apply(reg);
      const sibling = { txid: reg.txid, vout: 1 };
      const collateral = { txid: reg.txid, vout: 0 };
      const spending = (input: typeof sibling) =>
        signTx(
          params,
          {
            inputs: [input],
            outputs: [pay(key(4), time(1))],
            payload: deregistrationPayload(params, input, { publicKey: node.publicKey }),
          },
          [key(4)],
        );
      expect(await codeOf(spending(sibling), pending, 2)).toBe('DEREG_UNAUTHORIZED');
      expect(await codeOf(spending(collateral), pending, 2)).toBe('OK');
    });

    it('a node-signed deregistration needs no collateral spend; MASTERNODE_UNKNOWN afterwards', async () => {
      const ledger = devnetLedger();
      const input = fundedOutpoint(6);
      const dereg = signTx(
        params,
        {
          inputs: [input],
          outputs: [pay(key(6), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, input, bootstrapNode().nodeKey),
        },
        [key(6)],
      );
      expect(await codeOf(dereg, ledger)).toBe('OK');
      ledger.apply(dereg);
      const again = signTx(
        params,
        {
          inputs: [fundedOutpoint(7)],
          outputs: [pay(key(7), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, fundedOutpoint(7), bootstrapNode().nodeKey),
        },
        [key(7)],
      );
      expect(await codeOf(again, ledger)).toBe('MASTERNODE_UNKNOWN');
      // Once deregistered, the collateral is an ordinary output again.
      const owner = devnetKeyPair(DEVNET_SEED, DEVNET_OWNER_KEY_BASE);
      const free = signTx(
        params,
        { inputs: [bootstrapCollateral(ledger)], outputs: [pay(owner, time(999))] },
        [owner],
      );
      expect(await codeOf(free, ledger)).toBe('OK');
    });

    it('an unsigned deregistration must spend the collateral itself: same vout elsewhere is not it, extra inputs are fine', async () => {
      const ledger = devnetLedger();
      const owner = bootstrapNode().ownerKey;
      const collateral = bootstrapCollateral(ledger);
      const nodeKey = { publicKey: bootstrapNode().nodeKey.publicKey };
      // Another output with the collateral's vout (genesis allocation output `vout`): not the collateral.
      const lookalike = fundedOutpoint(collateral.vout);
      const unsignedSpending = (inputs: (typeof collateral)[], signers: (typeof owner)[]) =>
        signTx(
          params,
          {
            inputs,
            outputs: [pay(owner, time(999))],
            payload: deregistrationPayload(params, inputs[0]!, nodeKey),
          },
          signers,
        );
      expect(await codeOf(unsignedSpending([lookalike], [key(collateral.vout)]), ledger)).toBe(
        'DEREG_UNAUTHORIZED',
      );
      // The collateral plus another input: it still spends the collateral.
      expect(await codeOf(unsignedSpending([collateral, fundedOutpoint(6)], [owner, key(6)]), ledger)).toBe(
        'OK',
      );
    });

    it('DEREG_UNAUTHORIZED: an unsigned deregistration of a Free node (no collateral) is refused', async () => {
      const ledger = new LedgerOverlay(devnetLedger(), params, 1);
      ledger.apply(register(NO_COLLATERAL, time(1)));
      const input = fundedOutpoint(6);
      const dereg = signTx(
        params,
        {
          inputs: [input],
          outputs: [pay(key(6), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, input, { publicKey: node.publicKey }),
        },
        [key(6)],
      );
      expect(await codeOf(dereg, ledger, 2)).toBe('DEREG_UNAUTHORIZED');
    });
  });

  it('COLLATERAL_LOCKED until the block after the deregistration (the same rule at every height)', async () => {
    const node = devnetMasternodes()[0]!;
    const chain = devnetLedger();
    const collateral = chain.getMasternode(node.nodeKey.publicKey)!.collateral!;
    // The deregistration is in the block at height 1 (or finalized, waiting for it).
    const atOne = new LedgerOverlay(chain, params, 1);
    atOne.apply(
      signTx(
        params,
        {
          inputs: [fundedOutpoint(6)],
          outputs: [pay(key(6), FUNDED - 100_000n)],
          payload: deregistrationPayload(params, fundedOutpoint(6), node.nodeKey),
        },
        [key(6)],
      ),
    );
    const spend = signTx(
      params,
      { inputs: [collateral], outputs: [pay(node.ownerKey, chain.getUtxo(collateral)!.value - 10_000n)] },
      [node.ownerKey],
    );
    expect(await codeOf(spend, atOne, 1)).toBe('COLLATERAL_LOCKED');
    expect(await codeOf(spend, atOne, 2)).toBe('OK');
  });

  describe('public keys (issue 12)', () => {
    const P = ed25519.Point;
    const IDENTITY = Uint8Array.from([1, ...new Array(31).fill(0)]);
    /** R = identity, S = 0: under ZIP-215 this "verifies" for a small-order key on every message. */
    const FORGED = Uint8Array.from([...IDENTITY, ...new Uint8Array(32)]);

    /** The 8 small-order points as @noble (the oracle) derives them: torsion parts of a point. */
    function smallOrderPoints(): Uint8Array[] {
      let seed = P.ZERO;
      for (let y = 2; seed.equals(P.ZERO); y++) {
        try {
          seed = P.fromBytes(Uint8Array.from([y, ...new Array(31).fill(0)]), true);
        } catch {}
      }
      const torsion = seed.multiplyUnsafe(P.Fn.ORDER - 1n).add(seed);
      const out = new Map<string, Uint8Array>();
      for (let k = 0n; k < 8n; k++) {
        const b = (k === 0n ? P.ZERO : torsion.multiplyUnsafe(k)).toBytes();
        out.set(Buffer.from(b).toString('hex'), b);
      }
      return [...out.values()];
    }

    /** A 32-byte encoding whose y has no curve point (@noble decides). */
    function offCurveKey(): Uint8Array {
      for (let y = 2; ; y++) {
        const b = Uint8Array.from([y, ...new Array(31).fill(0)]);
        try {
          P.fromBytes(b, false);
        } catch {
          return b;
        }
      }
    }

    const registerWith = (nodePubkey: Uint8Array, nodeSignature = FORGED, collateralVout = NO_COLLATERAL) =>
      signTx(
        params,
        {
          inputs: [fundedOutpoint(4)],
          // A Free registration: it pays the treasury fee, so only the key rules can fail it.
          outputs: [
            pay(key(4), FUNDED - params.freeRegistrationFee - 100_000n),
            { value: params.freeRegistrationFee, address: params.treasuryAddress },
          ],
          payload: {
            kind: 'register',
            nodePubkey,
            collateralVout,
            rewardAddress: key(4).addressPayload,
            nodeSignature,
          },
        },
        [key(4)],
      );

    async function failure(etx: EncodedTx, ledger = devnetLedger()): Promise<TxError> {
      const err = await validateTx(etx, ledger, params, 1, verifier).then(
        () => new Error('valid'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TxError);
      return err as TxError;
    }

    it('the forgery is real: a small-order key verifies (R = identity, S = 0) on any message', async () => {
      const message = new TextEncoder().encode('anything at all');
      for (const publicKey of smallOrderPoints())
        expect(await verifier.verifyBatch([{ publicKey, message, signature: FORGED }])).toEqual([true]);
    });

    it('refuses registering any of the 8 small-order node keys, naming the payload', async () => {
      const keys = smallOrderPoints();
      expect(keys).toHaveLength(8);
      for (const k of keys) {
        const err = await failure(registerWith(k));
        expect(err.code).toBe('BAD_PUBKEY');
        expect(err.details).toEqual({ payload: 'register', fault: 'SMALL_ORDER' });
        expect(err.message).toBe(
          `BAD_PUBKEY: the register payload's node key is a small-order point, which verifies a forged signature on any message`,
        );
      }
    });

    it('refuses a non-canonical node key in a deregistration, and a registration key off the curve', async () => {
      const yEqualsP = Uint8Array.from(Buffer.from(`ed${'ff'.repeat(30)}7f`, 'hex'));
      const dereg = signTx(
        params,
        {
          inputs: [fundedOutpoint(6)],
          outputs: [pay(key(6), FUNDED - 100_000n)],
          payload: { kind: 'deregister', nodePubkey: yEqualsP, nodeSignature: FORGED },
        },
        [key(6)],
      );
      expect((await failure(dereg)).details).toEqual({ payload: 'deregister', fault: 'NON_CANONICAL' });
      expect((await failure(dereg)).message).toBe(
        "BAD_PUBKEY: the deregister payload's node key is a non-canonical encoding (y ≥ p)",
      );
      const offCurve = await failure(registerWith(offCurveKey()));
      expect(offCurve.code).toBe('BAD_PUBKEY');
      expect(offCurve.details).toEqual({ payload: 'register', fault: 'NOT_ON_CURVE' });
      expect(offCurve.message).toBe("BAD_PUBKEY: the register payload's node key is not a curve point");
    });

    it('refuses a small-order witness key, which could spend what is paid to it without its secret', async () => {
      // An output paid to the identity key's address, then spent with the forged signature.
      const ledger = devnetLedger();
      const fund = spendFunded(0, [{ value: time(1), address: addressPayloadOfPubkey(IDENTITY) }]);
      ledger.apply(fund);
      const steal = encodeTx({
        version: 1,
        chainId: params.chainId,
        inputs: [{ txid: fund.txid, vout: 0 }],
        outputs: [pay(key(9), time(1) - 10_000n)],
        lockTime: 0,
        payload: null,
        witnesses: [{ pubkey: IDENTITY, signature: FORGED }],
      });
      const err = await failure(steal, ledger);
      expect(err.code).toBe('BAD_PUBKEY');
      expect(err.details).toEqual({ input: 0, fault: 'SMALL_ORDER' });
      expect(err.message).toBe(
        'BAD_PUBKEY: witness 0 key is a small-order point, which verifies a forged signature on any message',
      );
    });

    it('check order: witness keys right after the witness count, the curve check after the payload rules', async () => {
      // Bad key and duplicate input: the key is reported (it comes first).
      const good = signTx(
        params,
        { inputs: [fundedOutpoint(0), fundedOutpoint(0)], outputs: [pay(key(1), time(1))] },
        [key(0), key(0)],
      );
      const badSecond = mutate(good, {
        witnesses: [good.tx.witnesses[0]!, { pubkey: smallOrderPoints()[3]!, signature: FORGED }],
      });
      expect((await failure(badSecond)).details).toEqual({ input: 1, fault: 'SMALL_ORDER' });
      // Off-curve registration key with a missing collateral output: the payload rule comes first.
      expect((await failure(registerWith(offCurveKey(), FORGED, 7))).code).toBe('BAD_PAYLOAD');
      // A curve point that is not small order passes the key rules and fails only its signature.
      const honestKey = devnetKeyPair(DEVNET_SEED, 9_001).publicKey;
      expect((await failure(registerWith(honestKey))).code).toBe('BAD_NODE_SIGNATURE');
      expect((await failure(registerWith(honestKey))).message).toBe(
        'BAD_NODE_SIGNATURE: the node key signature on the masternode payload is invalid',
      );
    });
  });
});

describe('collateral lock: only its own node may free it (issue 15)', () => {
  // Gold (genesis masternode 0) and Silver (1) both lock a collateral output.
  const gold = devnetMasternodes()[0]!;
  const silver = devnetMasternodes()[1]!;
  const collateralOf = (ledger: LedgerOverlay, nodePubkey: Uint8Array) =>
    ledger.getMasternode(nodePubkey)!.collateral!;

  /** A deregistration of `signer`'s node, signed by that node's key, spending `spent` (its owner signs). */
  const deregistration = (
    ledger: LedgerOverlay,
    signer: DevnetMasternode,
    spentOf: DevnetMasternode,
  ): EncodedTx => {
    const input = collateralOf(ledger, spentOf.nodeKey.publicKey);
    const value = ledger.getUtxo(input)!.value;
    return signTx(
      params,
      {
        inputs: [input],
        outputs: [pay(spentOf.ownerKey, value - 100_000n)],
        payload: deregistrationPayload(params, input, signer.nodeKey),
      },
      [spentOf.ownerKey],
    );
  };

  it("COLLATERAL_LOCKED: node A's signed deregistration cannot spend node B's collateral, even with B's owner signing", async () => {
    const ledger = devnetLedger();
    // Every other rule passes: A is registered, A's key signs the payload, B's owner signs the input.
    expect(await codeOf(deregistration(ledger, silver, gold), ledger)).toBe('COLLATERAL_LOCKED');
    expect(await codeOf(deregistration(ledger, gold, silver), ledger)).toBe('COLLATERAL_LOCKED');
  });

  it('the same transaction shape is valid when the deregistered node is the collateral owner', async () => {
    // The control: the refusal above comes from the node mismatch alone.
    const ledger = devnetLedger();
    expect(await codeOf(deregistration(ledger, gold, gold), ledger)).toBe('OK');
    expect(await codeOf(deregistration(ledger, silver, silver), ledger)).toBe('OK');
  });
});

describe('refusals name the rule, the input and the limit (issue 15)', () => {
  async function failure(etx: EncodedTx, ledger = devnetLedger(), nextHeight = 1) {
    const err = await validateTx(etx, ledger, params, nextHeight, verifier).then(
      () => new Error('valid'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TxError);
    const { code, message, details } = err as TxError;
    return { code, message, details };
  }
  const twoInputs = (signers: [number, number], inputs = [fundedOutpoint(0), fundedOutpoint(1)]) =>
    signTx(params, { inputs, outputs: [pay(key(2), time(1))] }, signers.map(key));

  it('structure rules', async () => {
    const spend = spendFunded(0, [pay(key(1), time(1))]);
    expect(await failure(mutate(spend, { version: 2 }))).toEqual({
      code: 'UNSUPPORTED_VERSION',
      message: 'UNSUPPORTED_VERSION: version 2',
      details: {},
    });
    const other = signTx(
      { ...params, chainId: 1 },
      { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), time(1))] },
      [key(0)],
    );
    expect((await failure(other)).message).toBe(`WRONG_CHAIN: chain id 1, this network is ${params.chainId}`);
    expect((await failure(mutate(spend, { inputs: [], witnesses: [] }))).message).toBe(
      'NO_INPUTS: only a block coinbase may have no inputs',
    );
    expect(
      (await failure(signTx(params, { inputs: [fundedOutpoint(0)], outputs: [] }, [key(0)]))).message,
    ).toBe('NO_OUTPUTS: a transaction needs at least one output');
    expect((await failure(mutate(spend, { witnesses: [] }))).message).toBe(
      'WITNESS_COUNT: 0 witnesses for 1 inputs',
    );
    expect(await failure(twoInputs([0, 0], [fundedOutpoint(0), fundedOutpoint(0)]))).toEqual({
      code: 'DUPLICATE_INPUT',
      message: 'DUPLICATE_INPUT: input 1 spends an outpoint twice',
      details: { input: 1 },
    });
    expect(await failure(spendFunded(0, [pay(key(1), time(1)), pay(key(1), params.dustLimit - 1n)]))).toEqual(
      {
        code: 'DUST_OUTPUT',
        message: `DUST_OUTPUT: output 1 of ${params.dustLimit - 1n} sat is below the dust limit ${params.dustLimit}`,
        details: { output: 1 },
      },
    );
    expect(
      (await failure(spendFunded(0, [pay(key(1), 1n << 62n), pay(key(1), 1n << 62n)], 0n))).message,
    ).toBe('VALUE_OVERFLOW: outputs sum out of range');
  });

  it('each structural limit is inclusive: maxTxBytes, the dust limit and MAX_MONEY themselves pass', () => {
    const spend = spendFunded(0, [pay(key(1), params.dustLimit)]);
    const size = spend.bytes.length;
    expect(() => checkTxStructure(spend, { ...params, maxTxBytes: size })).not.toThrow();
    expect(() => checkTxStructure(spend, { ...params, maxTxBytes: size - 1 })).toThrow(
      `TOO_LARGE: ${size} bytes exceeds ${size - 1}`,
    );
    const half = 1n << 62n;
    const atMax = mutate(spend, { outputs: [pay(key(1), half), pay(key(1), half - 1n)] });
    expect(half + half - 1n).toBe(MAX_MONEY);
    expect(() => checkTxStructure(atMax, params)).not.toThrow();
  });

  it('ledger rules name the input', async () => {
    expect(await failure(spendFunded(0, [pay(key(1), time(1))], 10_000n, { lockTime: 5 }))).toEqual({
      code: 'LOCKTIME',
      message: 'LOCKTIME: lock time 5 is above the next block height 1',
      details: {},
    });
    expect(
      await failure(twoInputs([0, 0], [fundedOutpoint(0), { txid: new Uint8Array(32), vout: 0 }])),
    ).toEqual({
      code: 'INPUT_NOT_FOUND',
      message: 'INPUT_NOT_FOUND: input 1 is not an unspent output',
      details: { input: 1 },
    });
    expect(await failure(twoInputs([0, 0]))).toEqual({
      code: 'WITNESS_KEY_MISMATCH',
      message: 'WITNESS_KEY_MISMATCH: witness 1 key does not own the spent output',
      details: { input: 1 },
    });
    const good = twoInputs([0, 1]);
    const sig = good.tx.witnesses[1]!.signature.slice();
    sig[5] = sig[5]! ^ 1;
    const badSig = mutate(good, {
      witnesses: [good.tx.witnesses[0]!, { pubkey: good.tx.witnesses[1]!.pubkey, signature: sig }],
    });
    expect(await failure(badSig)).toEqual({
      code: 'BAD_SIGNATURE',
      message: 'BAD_SIGNATURE: input 1 signature is invalid',
      details: { input: 1 },
    });
    const over = signTx(params, { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), FUNDED + 1n)] }, [
      key(0),
    ]);
    expect((await failure(over)).message).toBe(
      `INSUFFICIENT_INPUTS: inputs ${FUNDED} sat < outputs ${FUNDED + 1n} sat`,
    );
    const noFee = signTx(params, { inputs: [fundedOutpoint(0)], outputs: [pay(key(1), FUNDED)] }, [key(0)]);
    expect((await failure(noFee)).message).toBe(
      `FEE_TOO_LOW: fee 0 sat < minimum ${minimumFee(params, noFee.bytes.length)} sat for ${noFee.bytes.length} bytes`,
    );
  });

  it('a lock time equal to the next height is valid', async () => {
    expect(
      await codeOf(spendFunded(0, [pay(key(1), time(1))], 10_000n, { lockTime: 5 }), devnetLedger(), 5),
    ).toBe('OK');
  });

  it('minimumFee rounds up: one byte at 1 sat/kB costs 1 sat', () => {
    expect(minimumFee({ ...params, minRelayFeePerKb: 1n }, 1)).toBe(1n);
    expect(minimumFee({ ...params, minRelayFeePerKb: 1_000n }, 250)).toBe(250n);
    expect(minimumFee({ ...params, minRelayFeePerKb: 1_001n }, 1)).toBe(2n);
  });

  it('parseTx: more bytes than maxTxBytes is TOO_LARGE, a garbled transaction MALFORMED', () => {
    const spend = spendFunded(0, [pay(key(1), time(1))]);
    const size = spend.bytes.length;
    expect(() => parseTx(spend.bytes, { ...params, maxTxBytes: size - 1 })).toThrow(
      expect.objectContaining({ code: 'TOO_LARGE', details: { decode: 'OUT_OF_RANGE' } }),
    );
    expect(() => parseTx(spend.bytes.subarray(0, size - 1), params)).toThrow(
      expect.objectContaining({ code: 'MALFORMED' }),
    );
    expect(parseTx(spend.bytes, { ...params, maxTxBytes: size }).txid).toEqual(spend.txid);
  });

  it('parseTx: a field out of range in a transaction within the size limit is MALFORMED, not TOO_LARGE', () => {
    // A lock time of 2^64 - 1 is out of range (OUT_OF_RANGE from the decoder) whatever the size.
    const marked = encodeTx({ ...spendFunded(0, [pay(key(1), time(1))]).tx, lockTime: 0x0102030405 });
    const at = Buffer.from(marked.bytes).indexOf(Buffer.from([5, 4, 3, 2, 1, 0, 0, 0]));
    expect(at).toBeGreaterThan(0);
    const bytes = marked.bytes.slice();
    bytes.fill(0xff, at, at + 8);
    for (const maxTxBytes of [bytes.length, bytes.length + 1_000]) {
      expect(() => parseTx(bytes, { ...params, maxTxBytes })).toThrow(
        expect.objectContaining({ code: 'MALFORMED', details: { decode: 'OUT_OF_RANGE' } }),
      );
    }
  });
});
