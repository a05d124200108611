import { monitorEventLoopDelay } from 'node:perf_hooks';
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
 * Commands (stdin): {"cmd":"peers"} {"cmd":"stats"} {"cmd":"loop-reset"}
 * {"cmd":"poll","peer":HEX,"txids":N,"timeoutMs":MS} {"cmd":"gossip-tx","bytes":N,"fill":B,"count":C}
 * {"cmd":"validators","keys":[HEX…]} {"cmd":"stall","ms":MS} (blocks the event loop, as a long GC
 * pause would) {"cmd":"stop"}.
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
  node.on('ip:banned', (e) => write({ event: 'ip-banned', ...e }));
  node.on('handler:error', (e: { error: unknown }) =>
    write({ event: 'handler-error', message: String((e.error as Error)?.message ?? e.error) }),
  );
  let gossipSeen = 0;
  node.on('gossip:tx', (p, txs: Uint8Array[]) => {
    gossipSeen += txs.length;
    write({ event: 'gossip-tx', from: p.peerId, count: txs.length, first: toHex(txs[0]!.subarray(0, 8)) });
  });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();

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
    loop.disable();
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
          slowestFrameMs: node.slowestFrameMs,
          loopP99Ms: loop.percentile(99) / 1e6,
          loopMaxMs: loop.max / 1e6,
        });
        return;
      }
      case 'loop-reset':
        loop.reset();
        node.slowestFrameMs = 0;
        write({ event: 'loop-reset' });
        return;
      case 'validators':
        node.setValidators((cmd['keys'] as string[]) ?? []);
        write({ event: 'validators-set' });
        return;
      case 'stall': {
        const until = performance.now() + Number(cmd['ms'] ?? 0);
        while (performance.now() < until) {
          // busy: nothing else runs on this thread, exactly like a stop-the-world GC pause
        }
        write({ event: 'stalled' });
        return;
      }
      case 'poll': {
        const n = Number(cmd['txids'] ?? 1);
        const started = performance.now();
        try {
          const res = await node.request(
            String(cmd['peer']),
            { t: MSG.pollRequest, txids: new Uint8Array(32 * n) },
            cmd['timeoutMs'] === undefined ? undefined : Number(cmd['timeoutMs']),
          );
          write({ event: 'poll-result', ok: true, votes: res.votes.length, ms: performance.now() - started });
        } catch (err) {
          write({ event: 'poll-result', ok: false, error: (err as Error).message });
        }
        return;
      }
      case 'gossip-tx': {
        const count = Number(cmd['count'] ?? 1);
        const txs = Array.from({ length: count }, (_, i) => {
          const tx = new Uint8Array(Number(cmd['bytes'] ?? 100)).fill(Number(cmd['fill'] ?? 1));
          if (i > 0) new DataView(tx.buffer).setUint32(tx.length - 4, i);
          return tx;
        });
        node.gossipTxs(txs);
        write({ event: 'gossiped', first: toHex(txs[0]!.subarray(0, 8)), count });
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
