import type { BookEntry } from './address-book.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { CLOSE } from './close-codes.js';
import type { Link } from './link.js';
import type { PeerSession } from './peer-session.js';
import { dial } from './ws-dialer.js';

export interface PeerDialerOptions {
  readonly path: string;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly maxBackpressure: number;
  readonly tls: boolean;
  readonly backoff: BackoffOptions;
  readonly attach: (link: Link) => PeerSession;
  /** 'dial' now; 'wait' (slots full, stopping soon…) try again later; 'skip' (already connected). */
  readonly wanted: (e: BookEntry) => 'dial' | 'wait' | 'skip';
  readonly onScheduled: (e: { host: string; port: number; attempt: number; delayMs: number }) => void;
  readonly onFailed: (e: BookEntry) => void;
}

/** Close codes after which redialing the same address is pointless. */
const PERMANENT = new Set<number>([
  CLOSE.wrongChain,
  CLOSE.wrongGenesis,
  CLOSE.wrongVersion,
  CLOSE.selfConnection,
  CLOSE.badKey,
]);

interface DialState {
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
  /** Refused for a reason retrying cannot fix (other chain/genesis/version, ourselves). */
  dropped: boolean;
}

/**
 * Outbound connection attempts: dials address-book entries, and after a failure or a drop schedules
 * the next attempt with exponential backoff and jitter. An entry whose dial is not wanted when its
 * timer fires (slots full) is rescheduled, not forgotten; the node's maintenance loop re-offers
 * every configured address and every active masternode's address each second, so no target is lost.
 */
export class PeerDialer {
  private readonly states = new Map<BookEntry, DialState>();
  private readonly sessionEntry = new WeakMap<PeerSession, BookEntry>();
  /** Entries the address book dropped: never scheduled or dialed again (the book makes new ones). */
  private readonly forgotten = new WeakSet<BookEntry>();
  private stopped = false;

  constructor(private readonly opts: PeerDialerOptions) {}

  private stateOf(e: BookEntry): DialState {
    let s = this.states.get(e);
    if (!s) {
      s = { timer: undefined, dialing: false, dropped: false };
      this.states.set(e, s);
    }
    return s;
  }

  /** Dialing now or waiting for a scheduled attempt. */
  busy(e: BookEntry): boolean {
    const s = this.states.get(e);
    return s !== undefined && (s.dialing || s.timer !== undefined || s.dropped);
  }

  /** Entries being dialed right now. */
  dialingCount(pred: (e: BookEntry) => boolean = () => true): number {
    let n = 0;
    for (const [e, s] of this.states) if (s.dialing && pred(e)) n++;
    return n;
  }

  /** The entry an outbound session was dialed for. */
  entryOf(session: PeerSession): BookEntry | undefined {
    return this.sessionEntry.get(session);
  }

  /** Dials `e` now unless it is busy or not wanted. */
  offer(e: BookEntry): void {
    if (this.stopped || this.busy(e)) return;
    this.tryDial(e);
  }

  /**
   * A handshake with the entry's node completed: reset its backoff. The dial is over (the session
   * now counts as a connection, not also as a dial under way).
   */
  connected(e: BookEntry): void {
    if (this.forgotten.has(e)) {
      this.states.delete(e);
      return;
    }
    const s = this.stateOf(e);
    s.dialing = false;
    e.attempts = 0;
    s.dropped = false;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
  }

  /** A session we dialed ended; schedule a redial when that makes sense. */
  closed(session: PeerSession, code: number, wasCurrent: boolean): void {
    const e = this.sessionEntry.get(session);
    if (!e || this.stopped) return;
    if (this.forgotten.has(e)) {
      this.states.delete(e);
      return;
    }
    const s = this.stateOf(e);
    s.dialing = false;
    if (PERMANENT.has(code) && !wasCurrent) {
      s.dropped = true;
      return;
    }
    if (code === CLOSE.duplicate && !wasCurrent) return;
    if (!wasCurrent) this.opts.onFailed(e);
    this.schedule(e);
  }

  /**
   * Forgets an entry the address book dropped: its backoff timer is cleared and it is never dialed
   * again, even when a dial or connection to it that is under way ends later.
   */
  forget(e: BookEntry): void {
    this.forgotten.add(e);
    const s = this.states.get(e);
    if (s?.timer) clearTimeout(s.timer);
    if (s) s.timer = undefined;
    // A dial under way still counts (dialingCount) until it ends; then its state goes too.
    if (!s?.dialing) this.states.delete(e);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
    }
  }

  private schedule(e: BookEntry): void {
    if (this.forgotten.has(e)) {
      this.states.delete(e);
      return;
    }
    const s = this.stateOf(e);
    if (this.stopped || s.timer || s.dialing || s.dropped) return;
    const attempt = e.attempts + 1;
    const delayMs = backoffDelay(attempt, this.opts.backoff);
    this.opts.onScheduled({ host: e.host, port: e.port, attempt, delayMs });
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.tryDial(e);
    }, delayMs);
    s.timer.unref?.();
  }

  private tryDial(e: BookEntry): void {
    if (this.forgotten.has(e)) return;
    const s = this.stateOf(e);
    if (this.stopped || s.dialing || s.dropped || s.timer) return;
    const want = this.opts.wanted(e);
    if (want === 'skip') return;
    if (want === 'wait') {
      // Not now (slots full): keep the target and look again after the longest backoff.
      s.timer = setTimeout(() => {
        s.timer = undefined;
        this.tryDial(e);
      }, this.opts.backoff.maxMs);
      s.timer.unref?.();
      return;
    }
    s.dialing = true;
    const o = this.opts;
    dial(
      {
        host: e.host,
        port: e.port,
        path: o.path,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        pingIntervalMs: o.pingIntervalMs,
        maxBackpressure: o.maxBackpressure,
        tls: o.tls,
      },
      (link) => {
        const session = o.attach(link);
        this.sessionEntry.set(session, e);
        return session;
      },
    ).catch(() => {
      s.dialing = false;
      this.opts.onFailed(e);
      this.schedule(e);
    });
  }
}
