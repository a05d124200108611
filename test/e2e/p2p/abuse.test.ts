import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/encoding/bytes.js';
import type { LocalIdentity } from '../../../src/p2p/handshake.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { encodeMessage } from '../../../src/wire/codec.js';
import { MSG, type WireMessage } from '../../../src/wire/message-types.js';
import { testIdentity } from '../../support/p2p-identity.js';
import { ProbeProcess } from './probe-process.js';

const PATH = '/p2p/1';
const BAN_MS = 4_000;

/** Attackers handshake properly (on the probe's default all-zero genesis), then misbehave. */
const attacker = (i: number): LocalIdentity => testIdentity('p2p-abuse-attacker', i);

const frame = (payload: Uint8Array) => RawWsClient.frame(payload);
const enc = (m: Record<string, unknown>) => encodeMessage(m as unknown as WireMessage);

/** Kinds of abuse and the offence each must be banned for. */
const ATTACKS: { name: string; offence: string; frames: () => Buffer[] }[] = [
  {
    name: 'garbage bytes',
    offence: 'WIRE_NOT_A_MESSAGE',
    frames: () => [1, 2, 3].map((i) => frame(new Uint8Array(100).fill(0x40 + i))),
  },
  {
    name: 'truncated frames',
    offence: 'WIRE_BAD_CBOR',
    frames: () => {
      const full = encodeMessage({ t: MSG.pollRequest, id: 1, txids: new Uint8Array(32 * 8) });
      return [1, 2, 3].map(() => frame(full.subarray(0, full.length - 10)));
    },
  },
  {
    name: 'frames over their type limit',
    offence: 'WIRE_FRAME_TOO_LARGE',
    frames: () => [1, 2, 3].map(() => frame(enc({ t: MSG.ping, n: 1, pad: new Uint8Array(70_000) }))),
  },
  {
    name: 'invalid CBOR behind a valid prefix',
    offence: 'WIRE_BAD_CBOR',
    frames: () =>
      [1, 2, 3].map(() => frame(new Uint8Array([0xa2, 0x61, 0x74, 0x03, 0xff, 0xff, 0x1c, 0xfe]))),
  },
  {
    name: 'valid CBOR with a wrong schema',
    offence: 'WIRE_BAD_SCHEMA',
    frames: () => [1, 2, 3, 4, 5].map((n) => frame(enc({ t: MSG.ping, n: `x${n}` }))),
  },
  {
    name: 'a ping flood beyond the rate limit',
    offence: 'RATE_LIMITED',
    frames: () => Array.from({ length: 200 }, (_, n) => frame(enc({ t: MSG.ping, n }))),
  },
  {
    name: 'one frame over the 4 MiB WebSocket cap',
    offence: 'FRAME_OVER_CAP',
    frames: () => [frame(new Uint8Array(4 * 1024 * 1024 + 1))],
  },
];

/** The most recently banned identity: the refusal and expiry checks use it, so the ban is fresh. */
const LAST_ATTACKER = 10 + ATTACKS.length - 1;

describe('misbehaving peers are scored and banned; honest peers keep being served', () => {
  let dataDir: string;
  let target: ProbeProcess;
  let honest: ProbeProcess;
  let heapBefore = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'timecoin-p2p-abuse-'));
    target = await ProbeProcess.start([
      '--key-index',
      '1',
      '--data-dir',
      dataDir,
      '--ban-ms',
      String(BAN_MS),
    ]);
    honest = await ProbeProcess.start(['--key-index', '2', '--seed', `127.0.0.1:${target.port}`]);
    await honest.waitForPeerCount(1);
    heapBefore = (await target.query({ cmd: 'stats' }, 'stats'))['heapUsed'] as number;
  });

  afterAll(async () => {
    await ProbeProcess.killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  ATTACKS.forEach((attack, i) => {
    it(`bans a peer sending ${attack.name} (${attack.offence})`, async () => {
      const id = attacker(10 + i);
      const mark = target.events.length;
      // each attacker from its own address, so the IP scores do not add up across attacks
      const c = await RawWsClient.connect('127.0.0.1', target.port, PATH, {
        localAddress: `127.0.1.${i + 1}`,
      });
      await authenticateRaw(c, id);
      for (const f of attack.frames()) await c.write(f);
      const banned = await target.waitFor(
        (e) => e.event === 'peer-banned' && e['peerId'] === toHex(id.publicKey),
        10_000,
        mark,
      );
      expect(banned['offence']).toBe(attack.offence);
      await c.closed;
      if (attack.offence !== 'FRAME_OVER_CAP') {
        expect(c.closeCode).toBe(4008);
        expect(c.closeReason).toMatch(new RegExp(`^BANNED: ${attack.offence}`));
      }
      // The honest peer is still connected and answered.
      const poll = await honest.query(
        // a generous deadline: "still served" is the property, not the latency on a loaded CI box
        { cmd: 'poll', peer: target.pubkey, txids: 16, timeoutMs: 8_000 },
        'poll-result',
      );
      expect(poll).toMatchObject({ ok: true, votes: 16 }); // on failure, shows the request's error
    });
  });

  it('a banned identity is refused at the handshake', async () => {
    const c = await RawWsClient.connect('127.0.0.1', target.port, PATH, { localAddress: '127.0.1.200' });
    await expect(authenticateRaw(c, attacker(LAST_ATTACKER))).rejects.toThrow(/refused: 4008 BANNED/);
    c.destroy();
  });

  it('garbage before the handshake closes the connection without a key ban (no identity yet)', async () => {
    const mark = target.events.length;
    const c = await RawWsClient.connect('127.0.0.1', target.port, PATH, { localAddress: '127.0.2.1' });
    await c.write(frame(new Uint8Array([1, 2, 3])));
    await c.closed;
    expect(c.closeCode).toBe(4000);
    expect(c.closeReason).toMatch(/^PROTOCOL_VIOLATION/);
    // Broken WebSocket framing: unmasked client frame, reserved opcode, then a truncated frame.
    for (const bytes of [
      RawWsClient.frame(new Uint8Array(10), { mask: false }),
      RawWsClient.frame(new Uint8Array(10), { opcode: 0x3 }),
      RawWsClient.frame(new Uint8Array(1000)).subarray(0, 40),
    ]) {
      const raw = await RawWsClient.connect('127.0.0.1', target.port, PATH, { localAddress: '127.0.2.2' });
      await raw.write(bytes);
      if (bytes.length === 40) raw.destroy();
      await raw.closed;
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(target.events.slice(mark).filter((e) => e.event === 'peer-banned')).toEqual([]);
  });

  it('after all that the target has not crashed and its memory stayed bounded', async () => {
    const stats = await target.query({ cmd: 'stats' }, 'stats');
    expect(target.exitCode).toBeUndefined();
    expect(target.stderr).toBe('');
    expect(stats['peers']).toBe(1); // only the honest peer
    expect((stats['heapUsed'] as number) - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('bans expire', async () => {
    await new Promise((r) => setTimeout(r, BAN_MS + 200));
    const c = await RawWsClient.connect('127.0.0.1', target.port, PATH, { localAddress: '127.0.1.201' });
    await authenticateRaw(c, attacker(LAST_ATTACKER));
    expect(c.closeCode).toBe(0);
    c.destroy();
  });

  it('bans survive a restart (LMDB)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'timecoin-p2p-banstore-'));
    try {
      const t1 = await ProbeProcess.start(['--key-index', '3', '--data-dir', dir, '--ban-ms', '600000']);
      const id = attacker(99);
      const c = await RawWsClient.connect('127.0.0.1', t1.port, PATH, { localAddress: '127.0.1.202' });
      await authenticateRaw(c, id);
      for (const fill of [0x41, 0x42, 0x43]) await c.write(frame(new Uint8Array(50).fill(fill)));
      await t1.waitFor((e) => e.event === 'peer-banned');
      await t1.kill('SIGKILL');
      const t2 = await ProbeProcess.start(['--key-index', '3', '--data-dir', dir, '--ban-ms', '600000']);
      const again = await RawWsClient.connect('127.0.0.1', t2.port, PATH, { localAddress: '127.0.1.203' });
      await expect(authenticateRaw(again, id)).rejects.toThrow(/refused: 4008 BANNED/);
      again.destroy();
      await t2.kill();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
