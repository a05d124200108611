import { type BackoffOptions, backoffDelay } from './backoff.js';
import { CLOSE } from './close-codes.js';
import type { Link } from './link.js';
import type { PeerSession } from './peer-session.js';
import { dial } from './ws-dialer.js';

/** A peer address we keep a connection to. */
export interface DialTarget {
  readonly host: string;
  readonly port: number;
  /** Hex public key, once known (from peer exchange or a completed handshake). */
  peerId: string | undefined;
  /** Failed attempts since the last successful handshake. */
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  /** A dial or a session from a dial is in progress. */
  dialing: boolean;
  /** Refused for a reason retrying cannot fix (other chain/genesis/version, ourselves). */
  dropped: boolean;
}

export interface PeerDialerOptions {
  readonly path: string;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly maxBackpressure: number;
  readonly backoff: BackoffOptions;
  readonly now: () => number;
  readonly attach: (link: Link) => PeerSession;
  /** False when the target needs no connection now (already connected, peer limit, stopping). */
  readonly wanted: (t: DialTarget) => boolean;
  readonly onScheduled: (e: { host: string; port: number; attempt: number; delayMs: number }) => void;
}

/** Close codes after which redialing the same address is pointless. */
const PERMANENT = new Set<number>([
  CLOSE.wrongChain,
  CLOSE.wrongGenesis,
  CLOSE.wrongVersion,
  CLOSE.selfConnection,
]);

/**
 * Persistent outbound connections: every known peer address is (re)dialed with exponential backoff
 * and jitter whenever no authenticated connection to it exists.
 */
export class PeerDialer {
  private readonly targets = new Map<string, DialTarget>();
  private readonly sessionTarget = new WeakMap<PeerSession, DialTarget>();
  private stopped = false;

  constructor(private readonly opts: PeerDialerOptions) {}

  /** Adds (or updates) an address; dials it now unless `dialNow` is false. */
  add(host: string, port: number, peerId: string | undefined, dialNow = true): DialTarget {
    const key = `${host}|${port}`;
    let t = this.targets.get(key);
    if (!t) {
      t = { host, port, peerId, attempt: 0, timer: undefined, dialing: false, dropped: false };
      this.targets.set(key, t);
    } else if (peerId) {
      t.peerId = peerId;
    }
    if (dialNow) this.tryDial(t);
    return t;
  }

  list(): readonly DialTarget[] {
    return [...this.targets.values()];
  }

  /** The target an outbound session was dialed for, or the target that has its identity. */
  targetOf(session: PeerSession): DialTarget | undefined {
    const direct = this.sessionTarget.get(session);
    if (direct) return direct;
    for (const t of this.targets.values()) if (t.peerId === session.peerId) return t;
    return undefined;
  }

  /** A handshake with the target's node completed: reset its backoff. */
  connected(t: DialTarget, peerId: string): void {
    t.peerId = peerId;
    t.attempt = 0;
    t.dropped = false;
    if (t.timer) clearTimeout(t.timer);
    t.timer = undefined;
  }

  /** A session ended; schedule a redial of its address when that makes sense. */
  closed(session: PeerSession, code: number, wasCurrent: boolean): void {
    const own = this.sessionTarget.get(session);
    if (own) own.dialing = false;
    const t = own ?? (session.peerId ? this.targetOf(session) : undefined);
    if (!t || this.stopped) return;
    if (PERMANENT.has(code) && !wasCurrent) {
      t.dropped = true;
      return;
    }
    if (code === CLOSE.duplicate && !wasCurrent) return;
    this.schedule(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.targets.values()) {
      if (t.timer) clearTimeout(t.timer);
      t.timer = undefined;
    }
  }

  private schedule(t: DialTarget): void {
    if (this.stopped || t.timer || t.dialing || t.dropped) return;
    t.attempt++;
    const delayMs = backoffDelay(t.attempt, this.opts.backoff);
    this.opts.onScheduled({ host: t.host, port: t.port, attempt: t.attempt, delayMs });
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.tryDial(t);
    }, delayMs);
    t.timer.unref?.();
  }

  private tryDial(t: DialTarget): void {
    if (this.stopped || t.dialing || t.dropped || t.timer || !this.opts.wanted(t)) return;
    t.dialing = true;
    const o = this.opts;
    dial(
      {
        host: t.host,
        port: t.port,
        path: o.path,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        pingIntervalMs: o.pingIntervalMs,
        maxBackpressure: o.maxBackpressure,
      },
      (link) => {
        const session = o.attach(link);
        this.sessionTarget.set(session, t);
        return session;
      },
    ).catch(() => {
      t.dialing = false;
      this.schedule(t);
    });
  }
}
