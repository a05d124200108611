/**
 * Hand-written schema guards: a field check is a plain predicate, an object schema is a fixed list of
 * (key, predicate). Chosen over zod 4 for the hot path because it decodes+validates a vote several
 * times faster (bench/suites/p2p.bench.ts measures both) and never allocates on success.
 */
export type Check = (value: unknown) => boolean;

/** A Uint8Array (CBOR byte string) of exactly `length` bytes. */
export function bytesExact(length: number): Check {
  return (v) => v instanceof Uint8Array && v.length === length;
}

/** A Uint8Array of `min`..`max` bytes whose length is a multiple of `multiple`. */
export function bytesRange(min: number, max: number, multiple = 1): Check {
  return (v) => v instanceof Uint8Array && v.length >= min && v.length <= max && v.length % multiple === 0;
}

/** A Uint8Array whose length is one of `lengths`. */
export function bytesOneOf(lengths: readonly number[]): Check {
  return (v) => v instanceof Uint8Array && lengths.includes(v.length);
}

/** An integer in [min, max] (max ≤ 2^53 − 1). */
export function int(min: number, max: number): Check {
  return (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** A string of at most `maxLength` UTF-16 units (CBOR text strings are always valid UTF-8). */
export function text(maxLength: number, minLength = 0): Check {
  return (v) => typeof v === 'string' && v.length >= minLength && v.length <= maxLength;
}

/** An array of at most `maxItems` elements, each passing `item`. */
export function arrayOf(item: Check, maxItems: number, minItems = 0): Check {
  return (v) => {
    if (!Array.isArray(v) || v.length > maxItems || v.length < minItems) return false;
    for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
    return true;
  };
}

/** Shape of a plain object with exactly these keys. */
export interface ObjectSchema {
  readonly keys: readonly string[];
  readonly checks: readonly Check[];
}

export function objectSchema(fields: Readonly<Record<string, Check>>): ObjectSchema {
  const keys = Object.keys(fields);
  return { keys, checks: keys.map((k) => fields[k]!) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns null when `v` matches the schema exactly (no missing and no extra keys), else a short
 * description of the first problem (for the Reject reason and logs).
 */
export function checkObject(schema: ObjectSchema, v: unknown): string | null {
  if (!isPlainObject(v)) return 'not a map';
  const { keys, checks } = schema;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!checks[i]!(v[key])) return Object.hasOwn(v, key) ? `bad field ${key}` : `missing field ${key}`;
  }
  let count = 0;
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    count++;
  }
  if (count !== keys.length) return `unexpected fields (${count} given, ${keys.length} expected)`;
  return null;
}

/** Like checkObject but for nested items: boolean only. */
export function objectOf(fields: Readonly<Record<string, Check>>): Check {
  const schema = objectSchema(fields);
  return (v) => checkObject(schema, v) === null;
}
