/**
 * The one interface through which the ledger checks signatures. The inline @noble implementation
 * serves tests and the CLI; the WASM crypto pool implements the same interface for the node, so
 * callers never change when the verifier does.
 */
export interface SignatureItem {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SignatureVerifier {
  /**
   * One answer per item, in order, under the ZIP-215 rules (DESIGN §3). Never throws for bad
   * input: a malformed key or signature is simply `false`.
   */
  verifyBatch(items: readonly SignatureItem[]): Promise<boolean[]>;
}
