import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import { devnetKeyPair } from '../../../src/wallet/keys.js';
import { freeFixedPort, type ProbeEvent, ProbeProcess } from './probe-process.js';

const PHRASE = 'p2p-mesh-test';
const pubkeyOf = (i: number) => toHex(devnetKeyPair(PHRASE, i).publicKey);
const common = [
  '--seed-phrase',
  PHRASE,
  '--exchange-ms',
  '1000',
  '--backoff-base-ms',
  '200',
  '--backoff-max-ms',
  '1600',
  '--opt',
  'maxInboundPerIp=16',
];

/** Five transport processes on 127.0.0.1: node 0 is the only seed, peer exchange does the rest. */
describe('5-process mesh on 127.0.0.1', () => {
  const nodes: ProbeProcess[] = [];

  beforeAll(async () => {
    nodes.push(await ProbeProcess.start([...common, '--key-index', '0', '--auto-relay']));
    const seed = `127.0.0.1:${nodes[0]!.port}`;
    // Node 3 is restarted on its port below: a fixed one, as a real node's (see freeFixedPort).
    const port3 = await freeFixedPort();
    const rest = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        ProbeProcess.start([
          ...common,
          '--key-index',
          String(i),
          '--seed',
          seed,
          '--auto-relay',
          ...(i === 3 ? ['--port', String(port3)] : []),
        ]),
      ),
    );
    nodes.push(...rest);
  });

  afterAll(async () => {
    await ProbeProcess.killAll();
  });

  it('forms a full mesh of authenticated identities', async () => {
    for (let i = 0; i < 5; i++) {
      const ids = await nodes[i]!.waitForPeerCount(4);
      const expected = [0, 1, 2, 3, 4]
        .filter((j) => j !== i)
        .map(pubkeyOf)
        .sort();
      expect(ids).toEqual(expected);
      expect(nodes[i]!.pubkey).toBe(pubkeyOf(i));
    }
  });

  it('gossip reaches every node once and never echoes back to its origin', async () => {
    const marks = nodes.map((n) => n.events.length);
    await nodes[0]!.query({ cmd: 'gossip-tx', bytes: 300, fill: 0x5a }, 'gossiped');
    for (let i = 1; i < 5; i++)
      await nodes[i]!.waitFor(
        (e) => e.event === 'gossip-tx' && e['first'] === '5a'.repeat(8),
        5_000,
        marks[i],
      );
    await new Promise((r) => setTimeout(r, 300)); // let any relay settle
    for (let i = 0; i < 5; i++) {
      const got = nodes[i]!.events.slice(marks[i]).filter(
        (e) => e.event === 'gossip-tx' && e['first'] === '5a'.repeat(8),
      );
      expect(got.length).toBe(i === 0 ? 0 : 1);
    }
  });

  it('a node with a wrong genesis hash is refused with its reason, and stops dialing', async () => {
    const mark0 = nodes[0]!.events.length;
    const wrong = await ProbeProcess.start([
      ...common,
      '--key-index',
      '9',
      '--genesis',
      'ff'.repeat(32),
      '--seed',
      `127.0.0.1:${nodes[0]!.port}`,
    ]);
    const refused = await wrong.waitFor((e) => e.event === 'peer-refused');
    expect(refused['code']).toBe(4002);
    expect(String(refused['reason'])).toMatch(/^WRONG_GENESIS: wrong genesis/);
    const seen = await nodes[0]!.waitFor((e) => e.event === 'peer-refused', 5_000, mark0);
    expect(String(seen['reason'])).toMatch(/WRONG_GENESIS/);
    await new Promise((r) => setTimeout(r, 600));
    expect(wrong.events.filter((e) => e.event === 'dial-scheduled')).toEqual([]);
    expect(await wrong.peerIds()).toEqual([]);
    expect(await nodes[0]!.peerIds()).not.toContain(pubkeyOf(9));
    await wrong.kill();
  });

  it('a killed node is reconnected with growing backoff when it comes back', async () => {
    const victim = nodes[3]!;
    const port = victim.port;
    const marks = nodes.map((n) => n.events.length);
    await victim.kill('SIGKILL');
    for (const i of [0, 1, 2, 4]) {
      await nodes[i]!.waitFor(
        (e) => e.event === 'peer-disconnected' && e['peerId'] === pubkeyOf(3),
        5_000,
        marks[i],
      );
    }
    // Stay down long enough for several failed attempts by every survivor.
    for (const i of [0, 1, 2, 4]) {
      await nodes[i]!.waitFor(
        (e) => e.event === 'dial-scheduled' && e['port'] === port && (e['attempt'] as number) >= 3,
        10_000,
        marks[i],
      );
    }
    // Back on the same port with no seeds: only the others' redials can rebuild its links. uWS
    // v20.51 binds with SO_REUSEADDR, so the killed process's TIME_WAIT sockets do not hold the port
    // (older builds did: the node then retries listening for up to listenRetryMs).
    const back = await ProbeProcess.start(
      ['--seed-phrase', PHRASE, '--key-index', '3', '--port', String(port)],
      80_000,
    );
    nodes[3] = back;
    expect(await back.waitForPeerCount(4, 15_000)).toEqual([0, 1, 2, 4].map(pubkeyOf).sort());
    for (const i of [0, 1, 2, 4]) {
      const delays = nodes[i]!.events.slice(marks[i])
        .filter((e): e is ProbeEvent => e.event === 'dial-scheduled' && e['port'] === port)
        .map((e) => [e['attempt'] as number, e['delayMs'] as number] as const);
      expect(delays.length).toBeGreaterThanOrEqual(1);
      // equal jitter: attempt n waits within [d/2, d], d = min(1600, 200·2^(n−1))
      for (const [attempt, delay] of delays) {
        const d = Math.min(1600, 200 * 2 ** (attempt - 1));
        expect(delay).toBeGreaterThanOrEqual(d / 2 - 1);
        expect(delay).toBeLessThanOrEqual(d + 1);
      }
      // below the cap each delay is ≥ the previous one (d doubles, so d_k/2 = d_(k−1))
      for (let k = 1; k < delays.length; k++) {
        if (200 * 2 ** (delays[k]![0] - 1) <= 1600)
          expect(delays[k]![1]).toBeGreaterThanOrEqual(delays[k - 1]![1]);
      }
      expect(Math.max(...delays.map(([a]) => a))).toBeGreaterThanOrEqual(3);
      await nodes[i]!.waitFor(
        (e) => e.event === 'peer-connected' && e['peerId'] === pubkeyOf(3),
        10_000,
        marks[i],
      );
    }
  }, 120_000);

  it('no honest node was banned, wrote to stderr or died', () => {
    for (const n of nodes) {
      expect(n.events.filter((e) => e.event === 'peer-banned')).toEqual([]);
      expect(n.stderr).toBe('');
      expect(n.exitCode).toBeUndefined();
    }
  });
});
