import type { Benchlist } from '../consensus/snowball/benchlist.js';
import { type PollPool, pollPool, pollQuorumMet, StakeSampler } from '../consensus/snowball/sampler.js';
import { toHex } from '../encoding/bytes.js';
import type { MasternodeRecord } from '../ledger/ledger-state.js';
import type { ChainParams } from '../params/chain-params.js';

export interface ActiveValidator {
  readonly id: string;
  readonly pubkey: Uint8Array;
  readonly weight: number;
}

/**
 * The active masternodes as the poll loop sees them: who may be sampled (connected to us, or us,
 * leaving out benched validators when the rest still meets the quorum: `pollPool`), their stake
 * weights, and whether enough weight is reachable to poll at all.
 *
 * A validator samples itself, as avalanchego does: the sample must represent the whole active
 * stake, and leaving our own weight out would over-weight everyone else's votes (with 5 equal
 * validators, by 25 %). Our own draws are answered from our engine without a message.
 *
 * The sampler is rebuilt only when its inputs change (active set, connections, bench state), not
 * per poll.
 */
export class ValidatorSet {
  private active = new Map<string, ActiveValidator>();
  private totalWeight = 0;
  private readonly connected = new Set<string>();
  private sampler: StakeSampler | null = null;
  readonly selfId: string;

  constructor(
    private readonly params: ChainParams,
    selfPubkey: Uint8Array,
    /** Validators that keep timing out on our polls (they never include us). */
    readonly bench: Benchlist,
  ) {
    this.selfId = toHex(selfPubkey);
  }

  /** Replaces the active set (at start and after every block). */
  setActive(records: readonly MasternodeRecord[]): void {
    const next = new Map<string, ActiveValidator>();
    let total = 0;
    for (const m of records) {
      const weight = this.params.tiers[m.tier]?.weight;
      if (weight === undefined) continue;
      const id = toHex(m.nodePubkey);
      next.set(id, { id, pubkey: m.nodePubkey, weight });
      total += weight;
    }
    this.active = next;
    this.totalWeight = total;
    this.sampler = null;
    this.bench.setValidators([...next.values()].filter((v) => v.id !== this.selfId));
  }

  peerConnected(id: string): void {
    this.connected.add(id);
    if (this.active.has(id)) this.sampler = null;
  }

  peerDisconnected(id: string): void {
    this.connected.delete(id);
    if (this.active.has(id)) this.sampler = null;
  }

  /** This node is an active masternode: it is sampled by others and answers their polls as a validator. */
  get isValidator(): boolean {
    return this.active.has(this.selfId);
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  get activeWeight(): number {
    return this.totalWeight;
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** The active masternodes with their stake weights. */
  activeValidators(): ActiveValidator[] {
    return [...this.active.values()];
  }

  activeIds(): string[] {
    return [...this.active.keys()];
  }

  /** Weight we can reach now: connected active masternodes, plus our own if we are one. */
  reachableWeight(): number {
    let w = 0;
    for (const v of this.active.values()) if (v.id === this.selfId || this.connected.has(v.id)) w += v.weight;
    return w;
  }

  /** DESIGN §5: no poll while the reachable weight is below α_c/k of the active weight. */
  quorumMet(): boolean {
    return pollQuorumMet(this.reachableWeight(), this.totalWeight, this.params.snowball);
  }

  /** The sampler over every reachable validator (us + connected active masternodes); null if none. */
  reachableSampler(): StakeSampler | null {
    if (this.sampler) return this.sampler;
    const ids: string[] = [];
    for (const v of this.active.values())
      if (v.id === this.selfId || this.connected.has(v.id)) ids.push(v.id);
    this.sampler =
      ids.length === 0
        ? null
        : new StakeSampler(ids.map((id) => ({ id, weight: this.active.get(id)!.weight })));
    return this.sampler;
  }

  /**
   * Whom the next poll draws from (pollPool, src/consensus/snowball/sampler.ts): the reachable
   * validators minus the benched ones when the rest still holds α_c/k of the active weight, else all
   * reachable ones when they do, else nobody (no poll).
   */
  poolAt(nowMs: number): { sampler: StakeSampler; pool: PollPool } | null {
    const sampler = this.reachableSampler();
    if (!sampler) return null;
    const pool = pollPool(sampler, this.bench.benched(nowMs), this.totalWeight, this.params.snowball);
    return pool && { sampler, pool };
  }
}
