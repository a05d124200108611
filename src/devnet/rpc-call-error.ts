/** A JSON-RPC error answer from a node (its code, message and data), thrown by the harness clients. */
export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(`RPC ${code}: ${message}`);
  }
}
