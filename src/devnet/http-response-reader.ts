/** One HTTP/1.1 response: status code and body (headers are not kept). */
export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /content-length: *(\d+)/i;

/**
 * Splits the bytes of a keep-alive connection into responses, each framed by Content-Length (as
 * the node's uWS server always frames them; no chunked encoding). Chunks are fed as they arrive;
 * `next()` yields each complete response once. Harness code only: the load clients that measure a
 * node must cost less than the node's work per request, which fetch/undici does not.
 */
export class HttpResponseReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The next complete response, or undefined until more bytes arrive. */
  next(): HttpResponse | undefined {
    const end = this.buf.indexOf(HEAD_END);
    if (end < 0) return undefined;
    const head = this.buf.subarray(0, end).toString('latin1');
    const m = CONTENT_LENGTH.exec(head);
    const len = m ? Number(m[1]) : 0;
    const total = end + HEAD_END.length + len;
    if (this.buf.length < total) return undefined;
    const status = Number(head.slice(9, 12));
    const body = this.buf.subarray(end + HEAD_END.length, total).toString('utf8');
    this.buf = this.buf.subarray(total);
    return { status, body };
  }
}

/** A POST / request with a JSON body and an Authorization header, as raw bytes. */
export function rpcRequest(authorization: string, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`,
      'latin1',
    ),
    b,
  ]);
}
