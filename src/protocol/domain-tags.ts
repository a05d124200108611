import { asciiBytes } from '../encoding/bytes.js';

/**
 * Every hashed or signed preimage starts with one of these tags followed by a 0x00 byte. Tags
 * contain no NUL, so the set of prefixes is prefix-free: no preimage of one kind can be read as
 * another kind. The trailing digit is the layout version; a new layout gets a new tag. (Typed arrays
 * cannot be frozen: never write into a tag.)
 */
function tag(name: string): Uint8Array {
  const bytes = asciiBytes(name);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

export const TAG = Object.freeze({
  /** Transaction id preimage (transaction without witnesses). */
  tx: tag('TIME:tx:1'),
  /** Witness hash preimage: the full serialized transaction, witnesses included (witness root leaves). */
  wtx: tag('TIME:wtx:1'),
  /** What every input witness signs. */
  sig: tag('TIME:sig:1'),
  /** Block header hash preimage. */
  hdr: tag('TIME:hdr:1'),
  /** What the block producer signs (the header hash). */
  hdrSig: tag('TIME:hdrsig:1'),
  /** Masternode registration: signed by the node key. */
  mnReg: tag('TIME:mnreg:1'),
  /** Masternode deregistration: signed by the node key. */
  mnDereg: tag('TIME:mndereg:1'),
  /** Reward rotation seed derived from the beacon. */
  reward: tag('TIME:reward:1'),
  /** Devnet key derivation from a seed phrase. */
  devKey: tag('TIME:devkey:1'),
  /** Snowball votes (network issue). */
  vote: tag('TIME:vote:1'),
  /** VDF beacon input x = HashToGroup(TAG.beacon ‖ chain id ‖ slot ‖ anchor hash). */
  beacon: tag('TIME:beacon:1'),
  /** HashToPrime candidates: SHA-256(TAG.prime ‖ x ‖ y ‖ counter). */
  prime: tag('TIME:prime:1'),
  /** Leader-ranking random stream drawn from the beacon y. */
  rank: tag('TIME:rank:1'),
  /** Retired (p2p protocol 1: a node key signed the other side's nonce, unbound to the channel). */
  hello: tag('TIME:hello:1'),
  /** P2P handshake: a node key signs the TLS-bound transcript (handshakeSigningMessage). */
  handshake: tag('TIME:handshake:1'),
});
