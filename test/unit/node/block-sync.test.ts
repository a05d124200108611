import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { genesisBlock } from '../../../src/chain/genesis.js';
import { BlockSync } from '../../../src/node/block-sync.js';
import type { ChainController } from '../../../src/node/chain-controller.js';
import { DEVNET } from '../../../src/params/networks.js';
import { type Block, encodeBlock } from '../../../src/protocol/block.js';
import type { ChainStore } from '../../../src/storage/chain-store.js';

/**
 * BlockSync's scheduling against a peer serving two blocks per answer (full blocks fill a frame
 * that way). The chain is a counter: what is checked is which batches are asked for, when, and
 * that every block is prepared on arrival and applied once, in order.
 */
function harness(peerTip: number) {
  const bytes = encodeBlock(genesisBlock(DEVNET));
  const events: string[] = [];
  let height = 0;
  let arrived = 0;
  let settle: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const sync = new BlockSync({
    params: DEVNET,
    store: { tip: () => ({ height }) } as unknown as ChainStore,
    chain: {
      receive: async (_block: Block) => {
        // Let any answer in flight arrive first: a prefetch must not wait for the batch before it.
        await new Promise((resolve) => setTimeout(resolve, 5));
        height++;
        events.push(`apply ${height}`);
        if (height === peerTip) settle();
        return 'applied';
      },
    } as unknown as ChainController,
    fetcher: {
      getBlocks: async (_peer, from, _count) => {
        events.push(`ask ${from}`);
        await Promise.resolve();
        const n = Math.max(0, Math.min(2, peerTip - from + 1));
        return Array.from({ length: n }, () => bytes);
      },
    },
    log: pino({ level: 'silent' }),
    now: () => 0,
    onBadBlock: () => {},
    prepare: () => {
      arrived++;
      events.push(`prepare ${arrived}`);
    },
  });
  return { sync, events, done };
}

describe('BlockSync', () => {
  it('asks for the next batch while applying this one, each batch once, every block prepared first', async () => {
    const { sync, events, done } = harness(6);
    sync.peerTip('peer', 6);
    await done;
    const asks = events.filter((e) => e.startsWith('ask'));
    expect(asks).toEqual(['ask 1', 'ask 3', 'ask 5']);
    // Batch 2 was asked for before block 1 was applied, and batch 3 before block 3.
    expect(events.indexOf('ask 3')).toBeLessThan(events.indexOf('apply 1'));
    expect(events.indexOf('ask 5')).toBeLessThan(events.indexOf('apply 3'));
    for (let h = 1; h <= 6; h++)
      expect(events.indexOf(`prepare ${h}`)).toBeLessThan(events.indexOf(`apply ${h}`));
    expect(events.filter((e) => e.startsWith('apply'))).toEqual([1, 2, 3, 4, 5, 6].map((h) => `apply ${h}`));
    sync.stop();
  });
});
