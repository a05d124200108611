/**
 * One WebSocket, whichever library carries it: uWS for inbound (server) connections, `ws` for
 * outbound ones. The session logic above it is identical for both.
 */
export interface Link {
  readonly direction: 'inbound' | 'outbound';
  /** Remote IP (inbound) or the host we dialed (outbound). */
  readonly remoteHost: string;
  /** Sends one binary frame. False when the socket is closed or over its backpressure limit. */
  send(frame: Uint8Array): boolean;
  /** Closes with an application code (4000–4999) and reason; idempotent. */
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
  /**
   * Inbound (uWS) links only: join the server's broadcast topic, so one `UwsServer.publish` reaches
   * this peer. uWS batches published messages per socket (fewer syscalls than one send per peer)
   * and drains them before any direct send, so ordering with `send` is preserved.
   */
  joinBroadcast?(): void;
}

/** What the transport does with a link's events (implemented by PeerSession). */
export interface LinkHandler {
  /** A binary frame the handler owns (already copied out of any transport buffer). */
  onFrame(frame: Uint8Array): void;
  /** A text frame: not part of the protocol. */
  onTextFrame(): void;
  onClose(code: number, reason: string): void;
}
