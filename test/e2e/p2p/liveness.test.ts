import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { P2pNode } from '../../../src/p2p/p2p-node.js';
import { authenticateRaw, RawWsClient } from '../../../src/p2p/raw-ws-client.js';
import { dial } from '../../../src/p2p/ws-dialer.js';
import { testIdentity, testTls } from '../../support/p2p-identity.js';

const GENESIS = new Uint8Array(32).fill(9);
const id = (i: number) => testIdentity('p2p-liveness', i, GENESIS);
const listening = async (i: number) => ({ ...id(i), tls: await testTls() });

describe('idle timeout with automatic pings (uWS server side)', () => {
  it('drops a peer that stops answering pings, keeps a quiet but live ws peer', async () => {
    // uWS idle timeouts have a 4 s resolution; 8 s is the smallest useful value.
    const server = new P2pNode({ identity: await listening(1), idleTimeoutSec: 8 });
    const port = await server.start();
    const live = new P2pNode({
      identity: await listening(2),
      seeds: [{ host: '127.0.0.1', port }],
      pingIntervalMs: 60_000,
    });
    await live.start();
    try {
      const dead = await RawWsClient.connect('127.0.0.1', port, '/p2p/1');
      await authenticateRaw(dead, { ...id(3), listenPort: 0 });
      dead.countOnly = true; // from now on: no pongs, no data
      const t0 = Date.now();
      await dead.closed;
      const waited = Date.now() - t0;
      expect(waited).toBeGreaterThan(4_000);
      expect(waited).toBeLessThan(20_000);
      expect(server.peers().map((p) => p.peerId)).toEqual([Buffer.from(id(2).publicKey).toString('hex')]);
      expect(live.peers()).toHaveLength(1);
    } finally {
      await live.stop();
      await server.stop();
    }
  }, 30_000);
});

describe('ping liveness (ws client side)', () => {
  it('closes an outbound link whose server accepted the upgrade but never answers pings', async () => {
    // A TLS server that completes the WebSocket upgrade and then reads nothing and answers nothing.
    const tls = await testTls();
    const server = createServer(
      { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
      (sock) => {
        sock.once('data', (head) => {
          const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(head.toString('latin1'))?.[1] ?? '';
          const accept = createHash('sha1')
            .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
            .digest('base64');
          sock.write(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
          );
          sock.on('data', () => undefined);
        });
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const closed = new Promise<{ code: number; at: number }>((resolve) => {
        void dial(
          {
            host: '127.0.0.1',
            port,
            path: '/p2p/1',
            handshakeTimeoutMs: 1_000,
            pingIntervalMs: 200,
            maxBackpressure: 1 << 20,
            tls: true,
          },
          () => ({
            acceptsFrameOf: () => true,
            onFrame: () => undefined,
            onTextFrame: () => undefined,
            onClose: (code) => resolve({ code, at: Date.now() }),
          }),
        );
      });
      const t0 = Date.now();
      const { code, at } = await closed;
      expect(code).toBe(1006); // terminated: no close handshake with a dead peer
      expect(at - t0).toBeGreaterThanOrEqual(350); // one unanswered ping interval, then the check
      expect(at - t0).toBeLessThan(3_000);
    } finally {
      server.close();
    }
  });
});
