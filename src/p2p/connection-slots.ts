import { createHash } from 'node:crypto';

/**
 * Who may hold a connection (Bitcoin Core's connection manager, adapted to a masternode network):
 * - **validator** slots: any connection whose authenticated key is in the active masternode set,
 *   whichever side dialed; as many as the set is large (capped), never evicted. A validator must
 *   reach every active masternode to count its vote, so Sybil identities must not crowd them out.
 * - **manual**: connections we dialed to an address the operator configured (seeds, addPeer), as
 *   many as were configured.
 * - **outbound** slots (default 8): peers WE chose from the address book; nobody else can fill them.
 * - **inbound** slots (default 64): everyone else who dials us, at most `maxInboundPerIp` per IP
 *   (`SlotPeer.ip`: ip-address.ts ipSubject, an IPv6 /64) and `maxInboundPerNetgroup` per network
 *   (`SlotPeer.netgroup`: connectionGroupOf, a /24 or an IPv6 /48); when full, a newcomer may evict
 *   the least valuable inbound peer (selectEviction), otherwise it is refused.
 */
export type SlotClass = 'validator' | 'manual' | 'outbound' | 'inbound';

export interface SlotLimits {
  readonly maxOutbound: number;
  readonly maxInbound: number;
  readonly maxInboundPerIp: number;
  readonly maxInboundPerNetgroup: number;
  readonly maxValidatorSlots: number;
}

/** What slot decisions look at, for one connected (or connecting) peer. */
export interface SlotPeer {
  readonly peerId: string;
  readonly direction: 'inbound' | 'outbound';
  /** Its IP subject (ipSubject: an IPv4 address, an IPv6 /64). */
  readonly ip: string;
  /** Its network (connectionGroupOf: a /24, an IPv6 /48). */
  readonly netgroup: string;
  readonly connectedAtMs: number;
  readonly lastUsefulMs: number;
}

export type Admission =
  | { readonly ok: true; readonly evict?: string }
  | { readonly ok: false; readonly reason: string };

/** Protected from eviction: the peers that most recently sent us something new… */
export const PROTECT_RECENTLY_USEFUL = 4;
/** …one peer from each of this many netgroups, chosen by a keyed hash the attacker cannot predict… */
export const PROTECT_NETGROUPS = 4;
/** …and the longest-connected. */
export const PROTECT_LONGEST = 8;

export function classOf(
  direction: 'inbound' | 'outbound',
  isValidator: boolean,
  configured: boolean,
): SlotClass {
  if (isValidator) return 'validator';
  if (direction === 'outbound' && configured) return 'manual';
  return direction;
}

/**
 * May `newcomer` (authenticated, of class `cls`) take a slot next to `current` (every other
 * authenticated peer, with its class)? Inbound admissions may name a peer to evict first.
 */
export function admit(
  newcomer: SlotPeer,
  cls: SlotClass,
  current: readonly { peer: SlotPeer; cls: SlotClass }[],
  limits: SlotLimits,
  validatorSetSize: number,
  secret: Uint8Array,
): Admission {
  const inClass = current.filter((c) => c.cls === cls);
  if (cls === 'validator') {
    const cap = Math.min(validatorSetSize, limits.maxValidatorSlots);
    return inClass.length < cap ? { ok: true } : { ok: false, reason: `validator slots (${cap}) full` };
  }
  if (cls === 'manual') return { ok: true };
  if (cls === 'outbound') {
    return inClass.length < limits.maxOutbound
      ? { ok: true }
      : { ok: false, reason: `outbound slots (${limits.maxOutbound}) full` };
  }
  if (inClass.filter((c) => c.peer.ip === newcomer.ip).length >= limits.maxInboundPerIp) {
    return { ok: false, reason: `${limits.maxInboundPerIp} inbound peers from ${newcomer.ip} already` };
  }
  if (inClass.filter((c) => c.peer.netgroup === newcomer.netgroup).length >= limits.maxInboundPerNetgroup) {
    return {
      ok: false,
      reason: `${limits.maxInboundPerNetgroup} inbound peers from ${newcomer.netgroup} already`,
    };
  }
  if (inClass.length < limits.maxInbound) return { ok: true };
  const victim = selectEviction(
    inClass.map((c) => c.peer),
    secret,
  );
  return victim === undefined
    ? { ok: false, reason: `inbound slots (${limits.maxInbound}) full` }
    : { ok: true, evict: victim };
}

/**
 * The inbound peer to evict for a newcomer, or undefined when every candidate is protected.
 * Protects the recently useful, a few netgroups picked by a keyed hash, and the longest-connected;
 * of the rest, evicts the youngest peer of the netgroup with the most connections (an attacker's
 * many addresses tend to share netgroups; honest peers are spread out).
 */
export function selectEviction(candidates: readonly SlotPeer[], secret: Uint8Array): string | undefined {
  let left = [...candidates];
  const drop = (protectedIds: Iterable<string>) => {
    const ids = new Set(protectedIds);
    left = left.filter((p) => !ids.has(p.peerId));
  };
  drop(
    [...left]
      .filter((p) => p.lastUsefulMs > 0)
      .sort((a, b) => b.lastUsefulMs - a.lastUsefulMs || cmp(a.peerId, b.peerId))
      .slice(0, PROTECT_RECENTLY_USEFUL)
      .map((p) => p.peerId),
  );
  const keyed = (group: string) => createHash('sha256').update(secret).update(group).digest('hex');
  const groups = [...new Set(left.map((p) => p.netgroup))].sort((a, b) => cmp(keyed(a), keyed(b)));
  drop(
    groups.slice(0, PROTECT_NETGROUPS).map((g) => {
      const inGroup = left.filter((p) => p.netgroup === g);
      return inGroup.sort((a, b) => a.connectedAtMs - b.connectedAtMs || cmp(a.peerId, b.peerId))[0]!.peerId;
    }),
  );
  drop(
    [...left]
      .sort((a, b) => a.connectedAtMs - b.connectedAtMs || cmp(a.peerId, b.peerId))
      .slice(0, PROTECT_LONGEST)
      .map((p) => p.peerId),
  );
  if (left.length === 0) return undefined;
  const byGroup = new Map<string, SlotPeer[]>();
  for (const p of left) byGroup.set(p.netgroup, [...(byGroup.get(p.netgroup) ?? []), p]);
  const youngestOf = (ps: SlotPeer[]) =>
    ps.reduce((y, p) =>
      p.connectedAtMs > y.connectedAtMs || (p.connectedAtMs === y.connectedAtMs && p.peerId > y.peerId)
        ? p
        : y,
    );
  // Ties in size, then in the youngest's age, go to the larger key: never to the input order.
  const biggest = [...byGroup.values()].sort(
    (a, b) =>
      b.length - a.length ||
      youngestOf(b).connectedAtMs - youngestOf(a).connectedAtMs ||
      cmp(youngestOf(b).peerId, youngestOf(a).peerId),
  )[0]!;
  return youngestOf(biggest).peerId;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
