import { z } from 'zod';
import { CodedError } from '../util/coded-error.js';

/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) request handling, transport-free: a body
 * string in, a body string out (or null when every request was a notification). Method names and
 * error codes follow bitcoind where bitcoind has the concept, so existing wallet and exchange
 * tooling fits.
 */

/** Standard and application error codes (application codes are bitcoind's where it has one). */
export const RPC_ERROR = Object.freeze({
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** bitcoind RPC_MISC_ERROR: the node cannot do it now (busy, shutting down, finality halted). */
  MISC_ERROR: -1,
  /** bitcoind RPC_INVALID_ADDRESS_OR_KEY: no such transaction / block / address. */
  NOT_FOUND: -5,
  /** bitcoind RPC_INVALID_PARAMETER. */
  INVALID_PARAMETER: -8,
  /** bitcoind RPC_DESERIALIZATION_ERROR: bytes that do not decode. */
  DESERIALIZATION_ERROR: -22,
  /** bitcoind RPC_VERIFY_ERROR: the transaction is invalid or conflicts (data.code says which rule). */
  VERIFY_ERROR: -25,
  /** bitcoind RPC_VERIFY_REJECTED: valid but refused by policy here (mempool full, already rejected). */
  VERIFY_REJECTED: -26,
  /** bitcoind RPC_VERIFY_ALREADY_IN_CHAIN. */
  ALREADY_IN_CHAIN: -27,
});

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export interface RpcContext {
  /** Aborted when the HTTP request is aborted or the node stops (long waits end early). */
  readonly signal: AbortSignal;
}

/** One positional parameter: bitcoind style positional arrays or a JSON-RPC named object. */
export interface RpcParam {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly optional?: boolean;
  readonly description: string;
}

export interface RpcMethod {
  readonly name: string;
  readonly summary: string;
  readonly params: readonly RpcParam[];
  readonly handler: (params: Record<string, unknown>, ctx: RpcContext) => unknown;
}

/** Most requests one batch may carry; a bigger batch is refused as a whole (-32600). */
export const MAX_BATCH = 1_000;

/** Longest a batch runs before it lets the event loop turn (ms). */
export const BATCH_SLICE_MS = 5;

type JsonId = string | number | null;

interface Response {
  jsonrpc: '2.0';
  id: JsonId;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** BigInt-safe JSON: amounts and heights are produced as strings/integers by the methods already. */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

export class RpcDispatcher {
  private readonly methods = new Map<string, RpcMethod>();

  register(method: RpcMethod): void {
    if (this.methods.has(method.name)) throw new Error(`RPC method ${method.name} registered twice`);
    this.methods.set(method.name, method);
  }

  list(): RpcMethod[] {
    return [...this.methods.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get(name: string): RpcMethod | undefined {
    return this.methods.get(name);
  }

  /**
   * Handles one HTTP body. Returns the response body, or null when there is nothing to send (every
   * request a notification, or a batch stopped because ctx.signal aborted: its client is gone).
   */
  async handleBody(body: string, ctx: RpcContext): Promise<string | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return stringify(errorResponse(null, RPC_ERROR.PARSE_ERROR, 'Parse error: the body is not JSON'));
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0)
        return stringify(errorResponse(null, RPC_ERROR.INVALID_REQUEST, 'Invalid Request: empty batch'));
      if (parsed.length > MAX_BATCH)
        return stringify(
          errorResponse(null, RPC_ERROR.INVALID_REQUEST, `Invalid Request: batch of more than ${MAX_BATCH}`),
        );
      const out: Response[] = [];
      // Sequentially: a batch is one client's work, and running it in order keeps its cost bounded.
      // Most handlers are synchronous, and awaiting one does not let the event loop turn: a batch
      // yields (setImmediate, after the I/O phase) whenever it has run BATCH_SLICE_MS since the
      // last turn, so one request cannot hold consensus polls, P2P and other clients for seconds.
      // A batch whose client has gone (ctx.signal aborted) stops: nobody reads the rest, and each
      // item could be a wait. The signal is read for batches only: a single request makes none.
      let sliceStart = performance.now();
      for (const item of parsed) {
        if (ctx.signal.aborted) return null;
        const r = await this.handleOne(item, ctx);
        if (r) out.push(r);
        if (performance.now() - sliceStart >= BATCH_SLICE_MS) {
          await new Promise<void>((r) => setImmediate(r));
          sliceStart = performance.now();
        }
      }
      return out.length === 0 ? null : stringify(out);
    }
    const r = await this.handleOne(parsed, ctx);
    return r ? stringify(r) : null;
  }

  private async handleOne(req: unknown, ctx: RpcContext): Promise<Response | null> {
    if (typeof req !== 'object' || req === null || Array.isArray(req))
      return errorResponse(null, RPC_ERROR.INVALID_REQUEST, 'Invalid Request: not an object');
    const r = req as Record<string, unknown>;
    const hasId = 'id' in r;
    const id = r['id'];
    if (hasId && !(typeof id === 'string' || typeof id === 'number' || id === null))
      return errorResponse(
        null,
        RPC_ERROR.INVALID_REQUEST,
        'Invalid Request: id must be a string, number or null',
      );
    // The answer's id must be the request's (JSON-RPC 2.0 §5). A JSON number parses to a double:
    // an integer beyond 2^53 comes back as another number (9007199254740993 → …992), and two
    // requests of one batch could get the same id. So a number id must be a safe integer; the
    // fractional ids the specification allows (and discourages) are refused with them, as a
    // fraction can be rounded the same way. Such clients send their ids as strings.
    if (typeof id === 'number' && !Number.isSafeInteger(id))
      return errorResponse(
        null,
        RPC_ERROR.INVALID_REQUEST,
        'Invalid Request: a number id must be an integer within ±(2^53 - 1); send larger ids as strings',
      );
    const replyId = (hasId ? id : null) as JsonId;
    // bitcoind accepts "1.0" and a missing version; JSON-RPC 2.0 clients send "2.0".
    if ('jsonrpc' in r && r['jsonrpc'] !== '2.0' && r['jsonrpc'] !== '1.0')
      return errorResponse(replyId, RPC_ERROR.INVALID_REQUEST, 'Invalid Request: jsonrpc must be "2.0"');
    if (typeof r['method'] !== 'string')
      return errorResponse(replyId, RPC_ERROR.INVALID_REQUEST, 'Invalid Request: method must be a string');
    const method = this.methods.get(r['method']);
    const notification = !hasId;
    if (!method) {
      return notification
        ? null
        : errorResponse(replyId, RPC_ERROR.METHOD_NOT_FOUND, `Method not found: ${r['method'].slice(0, 64)}`);
    }
    let params: Record<string, unknown>;
    try {
      params = bindParams(method, r['params']);
    } catch (err) {
      if (notification) return null;
      return errorResponse(replyId, RPC_ERROR.INVALID_PARAMS, (err as Error).message);
    }
    try {
      const result = await method.handler(params, ctx);
      return notification ? null : { jsonrpc: '2.0', id: replyId, result: result ?? null };
    } catch (err) {
      if (notification) return null;
      if (err instanceof RpcError) return errorResponse(replyId, err.code, err.message, err.data);
      if (err instanceof CodedError)
        return errorResponse(replyId, RPC_ERROR.MISC_ERROR, err.message, { code: err.code, ...err.details });
      return errorResponse(replyId, RPC_ERROR.INTERNAL_ERROR, 'Internal error');
    }
  }
}

function errorResponse(id: JsonId, code: number, message: string, data?: unknown): Response {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** Positional array or named object → the method's named params, each checked by its schema. */
export function bindParams(method: RpcMethod, raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const spec = method.params;
  let given: Record<string, unknown>;
  if (raw === undefined || raw === null) given = {};
  else if (Array.isArray(raw)) {
    if (raw.length > spec.length)
      throw new Error(`Invalid params: ${method.name} takes at most ${spec.length} parameters`);
    given = Object.fromEntries(raw.map((v, i) => [spec[i]!.name, v]));
  } else if (typeof raw === 'object') {
    given = raw as Record<string, unknown>;
    for (const k of Object.keys(given))
      if (!spec.some((p) => p.name === k))
        throw new Error(`Invalid params: unknown parameter ${k.slice(0, 64)}`);
  } else throw new Error('Invalid params: params must be an array or an object');
  for (const p of spec) {
    const v = given[p.name];
    if (v === undefined || v === null) {
      if (!p.optional) throw new Error(`Invalid params: missing ${p.name}`);
      continue;
    }
    const parsed = p.schema.safeParse(v);
    if (!parsed.success)
      throw new Error(`Invalid params: ${p.name}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    out[p.name] = parsed.data;
  }
  return out;
}

/** Common parameter schemas. */
export const P = Object.freeze({
  hex32: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a 32-byte hex string'),
  hex: z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, 'an even-length hex string'),
  bool: z.boolean(),
  height: z.number().int().min(0).max(0xffff_ffff),
  timeoutMs: z.number().int().min(0).max(600_000),
});
