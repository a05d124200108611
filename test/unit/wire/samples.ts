import { MSG, type WireMessage } from '../../../src/wire/message-types.js';

const b = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** One valid instance of every message type of the catalogue. */
export function sampleMessages(): WireMessage[] {
  return [
    {
      t: MSG.hello,
      protocol: 1,
      chainId: 3,
      genesis: b(32, 1),
      pubkey: b(32, 2),
      listenPort: 24200,
      tipHeight: 12345,
      tipHash: b(32, 3),
      nonce: b(32, 4),
    },
    { t: MSG.auth, sig: b(64, 5) },
    { t: MSG.ping, n: 7 },
    { t: MSG.pong, n: 0xffff_ffff },
    { t: MSG.tx, id: 0, txs: [b(200, 6), b(1, 7)] },
    { t: MSG.getTx, id: 1, txids: b(64, 8) },
    { t: MSG.pollRequest, id: 9, txids: b(32 * 1024, 9) },
    { t: MSG.pollResponse, id: 9, votes: new Uint8Array([0, 1, 2]) },
    { t: MSG.block, block: b(5000, 10) },
    { t: MSG.getBlocks, id: 2, from: 100, count: 50 },
    { t: MSG.blocks, id: 2, blocks: [b(300, 11), b(400, 12)] },
    { t: MSG.beacon, slot: 99, y: b(256, 13), proof: b(256, 14) },
    { t: MSG.getPeers, id: 3 },
    { t: MSG.peers, id: 3, peers: [{ host: '127.0.0.1', port: 24200, pubkey: b(32, 15) }] },
    { t: MSG.reject, id: 0, code: 'WRONG_GENESIS', reason: 'wrong genesis' },
    { t: MSG.getInventory, id: 4, after: b(32, 16) },
    { t: MSG.inventory, id: 4, txids: b(32 * 3, 17), next: new Uint8Array(0) },
    { t: MSG.tip, height: 77, hash: b(32, 18), slot: 1_000_001 },
  ];
}
