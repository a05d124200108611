import type { BookEntry } from '../../../src/p2p/address-book.js';
import { type LocalIdentity, makeAuth, makeHello } from '../../../src/p2p/handshake.js';
import type { Link } from '../../../src/p2p/link.js';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import type { P2pNodeOptions } from '../../../src/p2p/p2p-options.js';
import type { PeerSession } from '../../../src/p2p/peer-session.js';
import { decodeFrame, encodeMessage } from '../../../src/wire/codec.js';
import type { Hello } from '../../../src/wire/message-types.js';
import { testIdentity } from '../../support/p2p-identity.js';

// A real P2pNode (not listening) with sessions on in-memory links, so that the node's own
// admission, scoring and banning code is what a test exercises, from any source address.

const ZERO_BINDING = new Uint8Array(32);

/** An in-memory link: records what we send, and reports our close later, as uWS and ws do. */
export class MemoryLink implements Link {
  readonly channelBinding = ZERO_BINDING;
  readonly sent: Uint8Array[] = [];
  open = true;
  closedWith: { code: number; reason: string } | undefined;
  session: PeerSession | undefined;

  constructor(
    readonly remoteHost: string,
    readonly direction: 'inbound' | 'outbound' = 'inbound',
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  send(frame: Uint8Array): boolean {
    if (!this.open) return false;
    this.sent.push(frame);
    return true;
  }

  /** We close the link (our code). */
  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.closedWith = { code, reason };
    queueMicrotask(() => this.session?.onClose(code, reason));
  }

  /** The other side closes the link (its code). */
  closedByPeer(code: number, reason: string): void {
    this.open = false;
    this.session?.onClose(code, reason);
  }

  bufferedAmount(): number {
    return 0;
  }
}

/** Nodes made by makeNode, for the test file's afterEach to stop. */
export const nodes: P2pNode[] = [];

export async function stopNodes(): Promise<void> {
  for (const n of nodes.splice(0)) await n.stop();
}

export function makeNode(over: Partial<P2pNodeOptions> = {}): P2pNode {
  const node = new P2pNode({
    identity: testIdentity('in-process-node', 0),
    listen: false,
    peerExchange: false,
    ...over,
  });
  nodes.push(node);
  return node;
}

interface Internals {
  attach(l: Link): PeerSession;
  admitUpgrade(ip: string): string | null;
  wantsDial(e: BookEntry): 'dial' | 'wait' | 'skip';
}
const internals = (node: P2pNode) => node as unknown as Internals;

/** What the listener's HTTP upgrade decides for a connection from `ip` (null: admitted). */
export function admitUpgrade(node: P2pNode, ip: string): string | null {
  return internals(node).admitUpgrade(ip);
}

/** Whether the node would dial `host` now (an address-book entry of an unknown key). */
export function wantsDial(node: P2pNode, host: string): 'dial' | 'wait' | 'skip' {
  const entry: BookEntry = {
    host,
    port: 24_100,
    persistent: false,
    verifiedKey: undefined,
    claimedKey: undefined,
    attempts: 1,
    lastSuccessMs: 0,
    bucket: 0,
  };
  return internals(node).wantsDial(entry);
}

/** A connection on `link` as the transport hands it over after the upgrade. */
export function attach(node: P2pNode, link: MemoryLink): PeerSession {
  const s = internals(node).attach(link);
  link.session = s;
  return s;
}

/** Lets closes (reported in a microtask) and other queued work run. */
export const flush = () => new Promise((r) => setImmediate(r));

/** Completes the handshake on an inbound in-memory link as dialer `who`; returns the session. */
export async function authenticate(
  node: P2pNode,
  link: MemoryLink,
  who: LocalIdentity,
): Promise<PeerSession> {
  const s = attach(node, link);
  const theirHello = decodeFrame(link.sent[0]!, 'handshake') as Hello;
  const ours = makeHello(who);
  s.onFrame(encodeMessage(ours));
  s.onFrame(
    encodeMessage(makeAuth(who, 'dialer', { dialer: ours, listener: theirHello, binding: ZERO_BINDING })),
  );
  await flush();
  return s;
}
