/**
 * One TLS WebSocket, whichever library carries it: uWS (SSLApp) for inbound connections, `ws` over
 * TLS for outbound ones. The session logic above it is identical for both.
 */
export interface Link {
  readonly direction: 'inbound' | 'outbound';
  /** Remote IP literal, normalized (ip-address.ts): the address the socket really comes from. */
  readonly remoteHost: string;
  /**
   * SHA-256 of the listener's TLS certificate as this end saw it (RFC 5929 tls-server-end-point):
   * our own certificate on inbound links, the one the server presented on outbound links.
   */
  readonly channelBinding: Uint8Array;
  /** Sends one binary frame. False when the socket is closed or over its backpressure limit. */
  send(frame: Uint8Array): boolean;
  /** Closes with an application code (4000–4999) and reason; idempotent. */
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
  /** Bytes accepted by send() and not yet written to the kernel. */
  bufferedAmount(): number;
  /**
   * Inbound (uWS) links only: join the server's broadcast topic, so one `UwsServer.publish` reaches
   * this peer. uWS batches published messages per socket (fewer syscalls and TLS records than one
   * send per peer) and drains them before any direct send, so ordering with `send` is preserved.
   */
  joinBroadcast?(): void;
  /** Leaves that topic again (a connection replaced by a newer one to the same peer). */
  leaveBroadcast?(): void;
  /**
   * Stops / restarts reading from the socket (TCP backpressure to the sender). Outbound (`ws`) links
   * only: uWS.js v20.51 cannot pause a WebSocket, so inbound frames beyond a budget are queued
   * (bounded) instead.
   */
  pauseReading?(): void;
  resumeReading?(): void;
}

/** What the transport does with a link's events (implemented by PeerSession). */
export interface LinkHandler {
  /**
   * Called with a frame's length BEFORE it is copied out of the transport: false refuses it (the
   * handler closes the link), so an unauthenticated peer's large frame is never even copied.
   */
  acceptsFrameOf(bytes: number): boolean;
  /** A binary frame the handler owns (already copied out of any transport buffer). */
  onFrame(frame: Uint8Array): void;
  /** A text frame: not part of the protocol. */
  onTextFrame(): void;
  onClose(code: number, reason: string): void;
}
