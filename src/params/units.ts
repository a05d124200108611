/** Amounts are u64 satoshis held as bigint; 1 TIME = 100,000,000 sat. */
export const SAT_PER_TIME = 100_000_000n;

export function time(n: number | bigint): bigint {
  return BigInt(n) * SAT_PER_TIME;
}

/** Formats sat as a decimal TIME string with exactly 8 decimals ("1.50000000"); never a float. */
export function formatTime(sat: bigint): string {
  const sign = sat < 0n ? '-' : '';
  const abs = sat < 0n ? -sat : sat;
  const whole = abs / SAT_PER_TIME;
  const frac = (abs % SAT_PER_TIME).toString().padStart(8, '0');
  return `${sign}${whole}.${frac}`;
}

const AMOUNT_RE = /^(\d{1,11})(?:\.(\d{1,8}))?$/;

/** Parses "12.5" or "12.50000000" TIME into sat; rejects more than 8 decimals, signs and exponents. */
export function parseTime(text: string): bigint {
  const m = AMOUNT_RE.exec(text);
  if (!m) throw new RangeError(`not a TIME amount: ${JSON.stringify(text)}`);
  const frac = (m[2] ?? '').padEnd(8, '0');
  return BigInt(m[1]!) * SAT_PER_TIME + BigInt(frac);
}
