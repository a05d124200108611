import { createInterface } from 'node:readline';
import { toHex } from '../encoding/bytes.js';
import { MSG, VOTE } from '../wire/message-types.js';
import type { BanList } from './ban-list.js';
import { P2pNode } from './p2p-node.js';
import type { P2pNodeOptions } from './p2p-options.js';

/** One line of probe output (JSON), e.g. {"event":"peer-connected","peerId":…}. */
export type ProbeEvent = Record<string, unknown> & { event: string };

/**
 * `timecoin p2p-probe`: the transport alone, with stub answers (every poll answered "unknown", no
 * transactions, no blocks), driven by JSON lines on stdin and reporting JSON lines on stdout. It lets
 * the layer be exercised across real processes before the full node exists.
 *
 * Commands (stdin): {"cmd":"peers"} {"cmd":"stats"} {"cmd":"poll","peer":HEX,"txids":N}
 * {"cmd":"gossip-tx","bytes":N,"fill":B} {"cmd":"stop"}.
 */
export async function runProbe(
  options: P2pNodeOptions,
  write: (e: ProbeEvent) => void,
  input: NodeJS.ReadableStream | undefined,
  banList?: BanList & { close?: () => Promise<void> },
): Promise<{ node: P2pNode; done: Promise<void>; stop: () => Promise<void> }> {
  const node = new P2pNode({ ...options, ...(banList ? { banList } : {}) });
  node.handle(MSG.pollRequest, (_peer, req) => ({
    t: MSG.pollResponse,
    votes: new Uint8Array(req.txids.length / 32).fill(VOTE.unknown),
  }));
  node.handle(MSG.getTx, () => ({ t: MSG.tx, txs: [] }));
  node.handle(MSG.getBlocks, () => ({ t: MSG.blocks, blocks: [] }));
  node.on('peer:connected', (p) =>
    write({
      event: 'peer-connected',
      peerId: p.peerId,
      direction: p.direction,
      host: p.host,
      port: p.listenPort,
    }),
  );
  node.on('peer:disconnected', (e) => write({ event: 'peer-disconnected', ...e }));
  node.on('peer:refused', (e) => write({ event: 'peer-refused', ...e }));
  node.on('peer:banned', (e) => write({ event: 'peer-banned', ...e }));
  node.on('peer:reject', (e) => write({ event: 'reject-received', ...e }));
  node.on('dial:scheduled', (e) => write({ event: 'dial-scheduled', ...e }));
  node.on('listen:retry', (e) => write({ event: 'listen-retry', ...e }));
  let gossipSeen = 0;
  node.on('gossip:tx', (p, txs: Uint8Array[]) => {
    gossipSeen += txs.length;
    write({ event: 'gossip-tx', from: p.peerId, count: txs.length, first: toHex(txs[0]!.subarray(0, 8)) });
  });

  const port = await node.start();
  write({ event: 'listening', port, pubkey: toHex(options.identity.publicKey), pid: process.pid });

  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await node.stop();
    await banList?.close?.();
    write({ event: 'stopped' });
    finish();
  };

  const handle = async (line: string): Promise<void> => {
    let cmd: Record<string, unknown>;
    try {
      cmd = JSON.parse(line) as Record<string, unknown>;
    } catch {
      write({ event: 'error', message: 'stdin lines must be JSON objects' });
      return;
    }
    switch (cmd['cmd']) {
      case 'peers':
        write({
          event: 'peers',
          peers: node
            .peers()
            .map((p) => ({ peerId: p.peerId, direction: p.direction, host: p.host, port: p.listenPort })),
        });
        return;
      case 'stats': {
        const m = process.memoryUsage();
        write({
          event: 'stats',
          heapUsed: m.heapUsed,
          rss: m.rss,
          peers: node.peers().length,
          gossipSeen,
          counters: node.counters,
        });
        return;
      }
      case 'poll': {
        const n = Number(cmd['txids'] ?? 1);
        const started = performance.now();
        try {
          const res = await node.request(String(cmd['peer']), {
            t: MSG.pollRequest,
            txids: new Uint8Array(32 * n),
          });
          write({ event: 'poll-result', ok: true, votes: res.votes.length, ms: performance.now() - started });
        } catch (err) {
          write({ event: 'poll-result', ok: false, error: (err as Error).message });
        }
        return;
      }
      case 'gossip-tx': {
        const tx = new Uint8Array(Number(cmd['bytes'] ?? 100)).fill(Number(cmd['fill'] ?? 1));
        node.gossipTxs([tx]);
        write({ event: 'gossiped', first: toHex(tx.subarray(0, 8)) });
        return;
      }
      case 'stop':
        await stop();
        return;
      default:
        write({ event: 'error', message: `unknown command ${JSON.stringify(cmd['cmd'])}` });
    }
  };
  if (input) {
    const rl = createInterface({ input });
    rl.on('line', (line) => {
      handle(line).catch((err: Error) => write({ event: 'error', message: err.message }));
    });
    rl.on('close', () => {
      void stop();
    });
  }
  return { node, done, stop };
}
