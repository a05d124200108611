import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import type { Endpoint } from '../../../src/chaos/endpoint.js';

/**
 * A stand-in for node i: a WebSocket server that answers "who" with "node:<i>" and echoes anything
 * else, counting what it received (so a test can tell "request lost" from "reply lost").
 */
export class WsNode {
  received = 0;
  private constructor(
    readonly index: number,
    readonly server: WebSocketServer,
    readonly endpoint: Endpoint,
  ) {}

  static async start(index: number): Promise<WsNode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(server, 'listening');
    const node = new WsNode(index, server, {
      host: '127.0.0.1',
      port: (server.address() as { port: number }).port,
    });
    server.on('connection', (ws) => {
      ws.on('error', () => undefined);
      ws.on('message', (data: Buffer) => {
        node.received++;
        const text = data.toString();
        ws.send(text === 'who' ? `node:${index}` : text);
      });
    });
    return node;
  }

  async close(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    await new Promise((r) => this.server.close(r));
  }
}

/** A WebSocket client with a queue of received text messages. */
export class WsPeer {
  readonly inbox: string[] = [];
  closeCode: number | null = null;
  errorCode: string | null = null;
  readonly opened: Promise<boolean>;
  readonly closed: Promise<number>;
  private readonly waiters = new Set<() => void>();

  constructor(endpoint: Endpoint) {
    this.ws = new WebSocket(`ws://${endpoint.host}:${endpoint.port}/`, { perMessageDeflate: false });
    this.ws.on('message', (d: Buffer) => {
      this.inbox.push(d.toString());
      this.wake();
    });
    this.ws.on('error', (e: NodeJS.ErrnoException) => {
      this.errorCode ??= e.code ?? e.message;
    });
    this.opened = new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code: number) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  readonly ws: WebSocket;

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** Resolves with the next message (by arrival order), waiting for it if needed. */
  async next(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.closeCode !== null) throw new Error(`closed (${this.closeCode}) before a message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.add(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.inbox.shift()!;
  }

  /** One request/answer round trip (the far node answers "who" with its name). */
  async who(): Promise<string> {
    this.send('who');
    return this.next();
  }

  terminate(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
  }
}
