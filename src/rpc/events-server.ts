import { z } from 'zod';
import type { TemplatedApp } from '../p2p/uws.js';
import type { RpcAuth } from './rpc-auth.js';

/** What a client may subscribe to: every transaction outcome, one txid, one address, blocks, beacons. */
const Subscription = z.strictObject({
  subscribe: z.enum(['tx', 'block', 'beacon']),
  txid: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  address: z
    .string()
    .regex(/^[0-9a-f]{40}$/, 'an address payload (40 hex)')
    .optional(),
});

/** Block events kept for the dashboard. */
const RECENT_BLOCKS = 60;
/** Most subscriptions one client may hold (each is a uWS topic membership). */
export const MAX_SUBSCRIPTIONS = 256;
/** Largest message a client may send (subscriptions are tiny). */
const MAX_CLIENT_MESSAGE = 1024;
/** A client that reads too slowly loses messages beyond this, then the connection. */
const MAX_BACKPRESSURE = 1024 * 1024;

export interface TxEvent {
  readonly txid: string;
  readonly status: 'finalized' | 'rejected';
  /** Address payloads (hex) the transaction pays, for address subscriptions. */
  readonly addresses: readonly string[];
  readonly latencyMs?: number;
}

export interface BlockEvent {
  readonly height: number;
  readonly hash: string;
  readonly slot: number;
  readonly producer: string;
  readonly rank: number;
  readonly txCount: number;
}

interface ClientData {
  subscriptions: number;
}

/**
 * Events over WebSocket at `/events` on the RPC port (same credentials as RPC, checked at the
 * upgrade): a client sends `{"subscribe":"tx"}` (every outcome), `{"subscribe":"tx","txid":…}`,
 * `{"subscribe":"tx","address":<payload hex>}`, `{"subscribe":"block"}` or `{"subscribe":"beacon"}`
 * and receives JSON messages `{"type":"tx"|"block"|"beacon",…}`. Fan-out is uWS publish/subscribe:
 * one serialization per event, the topic membership in C++, slow readers skipped by backpressure.
 */
export class EventsHub {
  private app: TemplatedApp | undefined;
  /** The latest block events (newest last), for the dashboard's first paint. */
  readonly recentBlocks: (BlockEvent & { receivedMs: number })[] = [];
  /** The latest beacon published (slot), −1 before any. */
  lastBeaconSlot = -1;

  /** Registers the `/events` route on the RPC server's app (RpcServerOptions.extend). */
  attach(app: TemplatedApp, auth: RpcAuth): void {
    this.app = app;
    app.ws<ClientData>('/events', {
      maxPayloadLength: MAX_CLIENT_MESSAGE,
      maxBackpressure: MAX_BACKPRESSURE,
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        if (!auth.check(req.getHeader('authorization'))) {
          res.cork(() =>
            res
              .writeStatus('401 Unauthorized')
              .writeHeader('WWW-Authenticate', 'Basic realm="timecoin-rpc"')
              .end(),
          );
          return;
        }
        res.upgrade<ClientData>(
          { subscriptions: 0 },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      message: (ws, message) => {
        let parsed: z.infer<typeof Subscription>;
        try {
          const r = Subscription.safeParse(JSON.parse(Buffer.from(message).toString('utf8')));
          if (!r.success) throw new Error(r.error.issues[0]?.message ?? 'invalid subscription');
          parsed = r.data;
        } catch (err) {
          ws.send(JSON.stringify({ type: 'error', message: String((err as Error).message).slice(0, 200) }));
          return;
        }
        const topic =
          parsed.subscribe !== 'tx'
            ? parsed.subscribe
            : parsed.txid
              ? `tx/${parsed.txid}`
              : parsed.address
                ? `addr/${parsed.address}`
                : 'tx';
        // The cap counts distinct topics: repeating a subscription is confirmed and costs nothing
        // (uWS's subscribe() answers true for a repeat too, so it cannot tell us).
        if (!ws.isSubscribed(topic)) {
          const data = ws.getUserData();
          if (data.subscriptions >= MAX_SUBSCRIPTIONS) {
            ws.send(JSON.stringify({ type: 'error', message: `at most ${MAX_SUBSCRIPTIONS} subscriptions` }));
            return;
          }
          ws.subscribe(topic);
          data.subscriptions++;
        }
        ws.send(JSON.stringify({ type: 'subscribed', topic }));
      },
    });
  }

  publishTx(e: TxEvent): void {
    const app = this.app;
    if (!app) return;
    const msg = JSON.stringify({ type: 'tx', ...e });
    app.publish('tx', msg);
    app.publish(`tx/${e.txid}`, msg);
    for (const a of new Set(e.addresses)) app.publish(`addr/${a}`, msg);
  }

  publishBlock(e: BlockEvent): void {
    this.recentBlocks.push({ ...e, receivedMs: Date.now() });
    if (this.recentBlocks.length > RECENT_BLOCKS) this.recentBlocks.shift();
    this.app?.publish('block', JSON.stringify({ type: 'block', ...e }));
  }

  publishBeacon(slot: number, yHex: string): void {
    this.lastBeaconSlot = Math.max(this.lastBeaconSlot, slot);
    this.app?.publish('beacon', JSON.stringify({ type: 'beacon', slot, y: yHex }));
  }
}
