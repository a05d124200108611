/**
 * Base class for every typed error in the node: a stable machine-readable `code`, a human message,
 * and structured `details`. Errors cross thread and process boundaries as plain objects
 * (`toObject`), so a worker's or a peer's error keeps its code.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, details: Record<string, unknown> = {}) {
    super(`${code}: ${message}`);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toObject(): { name: string; code: C; message: string; details: Readonly<Record<string, unknown>> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}
