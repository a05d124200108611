import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalIdentity } from '../../../src/p2p/handshake.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { encodeMessage } from '../../../src/wire/codec.js';
import { testIdentity } from '../../support/p2p-identity.js';
import { fuzzFrame, rng } from '../../unit/wire/fuzz-frames.js';
import { sampleMessages } from '../../unit/wire/samples.js';
import { ProbeProcess } from './probe-process.js';

/** Frames after the handshake: 10,000 in CI; P2P_FUZZ_FRAMES=1000000 (or more) for a soak run. */
const FRAMES = Number(process.env['P2P_FUZZ_FRAMES'] ?? 10_000);
/** Connections that fuzz before the handshake (2 frames each, inside TLS) and below TLS (raw bytes). */
const PRE_AUTH_CONNECTIONS = 500;
const PRE_TLS_CONNECTIONS = 50;
const PATH = '/p2p/1';

const identity = (i: number): LocalIdentity => testIdentity('p2p-fuzz', i);

describe(`network fuzz over TLS: ${FRAMES} frames after the handshake, ${2 * PRE_AUTH_CONNECTIONS} before it, ${PRE_TLS_CONNECTIONS} streams below TLS`, () => {
  let target: ProbeProcess;
  let honest: ProbeProcess;
  let heapBefore = 0;

  beforeAll(async () => {
    // A ban threshold nobody reaches keeps the fuzzing identity connected, so every frame is read
    // and decoded (with the default threshold the first few would ban it and the rest go unread).
    target = await ProbeProcess.start([
      '--key-index',
      '1',
      '--ban-threshold',
      '1000000000',
      '--opt',
      'ipBanThreshold=1000000000',
      '--handshake-timeout-ms',
      '1000',
    ]);
    honest = await ProbeProcess.start(['--key-index', '2', '--seed', `127.0.0.1:${target.port}`]);
    await honest.waitForPeerCount(1);
    heapBefore = (await target.query({ cmd: 'stats' }, 'stats'))['heapUsed'] as number;
  });

  afterAll(async () => {
    await ProbeProcess.killAll();
  });

  it('never crashes, keeps serving the honest peer, reads every frame, memory stays bounded', async () => {
    const valid = sampleMessages().map(encodeMessage);
    const next = rng(0xf022 + FRAMES);
    let sent = 0;
    let client: RawWsClient | undefined;
    let connections = 0;
    const drops: string[] = [];
    while (sent < FRAMES) {
      if (!client || client.socket.destroyed || client.closeCode) {
        if (client)
          drops.push(
            `${client.closeCode} ${client.closeReason} after ${sent}: ${JSON.stringify(target.events.filter((e) => e.event === 'peer-disconnected').slice(-2))}`,
          );
        client = await RawWsClient.connect('127.0.0.1', target.port, PATH, { localAddress: '127.0.4.1' });
        await authenticateRaw(client, identity(100 + connections++));
        // From here on only count what the target answers: a reader that parses every reply in
        // JavaScript falls behind on a loaded CI machine, and the target then (rightly) closes a peer
        // that leaves more than maxBackpressure unread.
        client.countOnly = true;
      }
      const batch: Buffer[] = [];
      for (let i = 0; i < 250 && sent < FRAMES; i++, sent++)
        batch.push(RawWsClient.frame(fuzzFrame(next, valid)));
      await client.write(Buffer.concat(batch));
    }
    // Before the handshake, inside TLS: a valid Hello (every other time) then fuzz, on fresh
    // connections from fresh addresses (each garbage frame costs its IP 20–50 points).
    const hello = valid[0]!;
    for (let i = 0; i < PRE_AUTH_CONNECTIONS; i++) {
      const c = await RawWsClient.connect('127.0.0.1', target.port, PATH, {
        localAddress: `127.3.${i >> 7}.${(i & 127) + 1}`,
      });
      const first = i % 2 === 0 ? hello : fuzzFrame(next, valid);
      await c.write(Buffer.concat([RawWsClient.frame(first), RawWsClient.frame(fuzzFrame(next, valid))]));
      c.destroy();
    }
    // Below TLS: random bytes, half of them starting like a TLS handshake record.
    for (let i = 0; i < PRE_TLS_CONNECTIONS; i++) {
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: target.port, localAddress: `127.4.0.${i + 1}` }, () => {
          const junk = Buffer.alloc(1 + (next() % 2_000));
          for (let k = 0; k < junk.length; k++) junk[k] = next() & 0xff;
          if (i % 2 === 0) junk[0] = 0x16;
          s.end(junk);
        });
        // the server may wait for more of a record that never comes: we hang up after a moment
        const timer = setTimeout(() => s.destroy(), 300);
        s.on('error', () => resolve());
        s.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Wait until the target has read everything the fuzzing connection sent.
    const deadline = Date.now() + 60_000;
    let stats = await target.query({ cmd: 'stats' }, 'stats');
    while (
      ((stats['counters'] as Record<string, number>)['framesIn'] ?? 0) < FRAMES &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 200));
      stats = await target.query({ cmd: 'stats' }, 'stats');
    }
    const counters = stats['counters'] as Record<string, number>;
    expect(counters['framesIn'], JSON.stringify({ counters, connections, drops })).toBeGreaterThanOrEqual(
      FRAMES,
    );
    for (const code of ['WIRE_NOT_A_MESSAGE', 'WIRE_BAD_CBOR', 'WIRE_BAD_SCHEMA', 'WIRE_UNKNOWN_TYPE']) {
      expect(counters[code]).toBeGreaterThan(0);
    }
    expect(connections, drops.join('; ')).toBe(1); // the fuzzing connection was never dropped
    expect(target.exitCode).toBeUndefined();
    expect(target.stderr).toBe('');
    expect((stats['heapUsed'] as number) - heapBefore).toBeLessThan(64 * 1024 * 1024);
    const poll = await honest.query(
      { cmd: 'poll', peer: target.pubkey, txids: 4, timeoutMs: 8_000 },
      'poll-result',
    );
    expect(poll['ok']).toBe(true);
    client?.destroy();
  }, 120_000);
});
