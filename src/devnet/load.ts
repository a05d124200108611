import { fromHex, toHex } from '../encoding/bytes.js';
import type { ChainParams } from '../params/chain-params.js';
import { encodeAddress } from '../protocol/address.js';
import type { KeyPair } from '../wallet/keys.js';
import { buildPayment, type SpendableCoin } from '../wallet/payment.js';
import { fundedCoin, recipient } from './coins.js';

/** What the load needs from a node: one JSON-RPC call (NodeProcess.rpc fits). */
export type RpcCall = <T>(method: string, params?: unknown[]) => Promise<T>;

/** Coins kept ready: below this many, one large coin is split again. */
const MIN_COINS = 10;
const SPLIT_INTO = 50;
const SPLIT_EACH = 100_000_000n; // 1 TIME
const PAYMENT = 1_000_000n; // 0.01 TIME

/**
 * A small steady load of signed transfers for the live devnet (`devnet up`): from one devnet funded
 * key, small payments to a rotating set of recipients, each spending a coin the node lists as final
 * and unspent (listunspent), so the load never double-spends itself and resumes from whatever the
 * chain holds after a restart. When it runs low on coins it splits a large one.
 */
export class TransferLoad {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private next = 0;
  sent = 0;
  failed = 0;

  constructor(
    private readonly rpc: RpcCall,
    private readonly params: ChainParams,
    private readonly key: KeyPair = fundedCoin(9, params).key,
    private readonly perSecond = 4,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.max(20, Math.floor(1000 / this.perSecond)));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.running) return; // one step at a time: each reads the coins the previous one left
    this.running = true;
    try {
      const address = encodeAddress(this.params.addressDigit, this.key.addressPayload);
      const rows = await this.rpc<{ txid: string; vout: number; sat: string; spendable: boolean }[]>(
        'listunspent',
        [address, 0, 1_000],
      );
      const coins: SpendableCoin[] = rows
        .filter((r) => r.spendable)
        .map((r) => ({ outpoint: { txid: fromHex(r.txid, 32), vout: r.vout }, value: BigInt(r.sat) }));
      if (coins.length === 0) return;
      let tx: ReturnType<typeof buildPayment>['tx'];
      const small = coins.filter((c) => c.value < SPLIT_EACH * 2n && c.value > PAYMENT * 2n);
      if (small.length < MIN_COINS) {
        const big = coins.reduce((a, b) => (b.value > a.value ? b : a));
        if (big.value < SPLIT_EACH * BigInt(SPLIT_INTO + 1)) return;
        const outputs = Array.from({ length: SPLIT_INTO }, () => ({
          value: SPLIT_EACH,
          address: this.key.addressPayload,
        }));
        tx = buildPayment(this.params, this.key, [big], outputs).tx;
      } else {
        const coin = small[this.next++ % small.length]!;
        tx = buildPayment(
          this.params,
          this.key,
          [coin],
          [{ value: PAYMENT, address: recipient(this.next % 64) }],
        ).tx;
      }
      await this.rpc('sendrawtransaction', [toHex(tx.bytes)]);
      this.sent++;
    } catch {
      // A node restarting or a coin taken meanwhile: the next tick reads the state again.
      this.failed++;
    } finally {
      this.running = false;
    }
  }
}
