/**
 * Endian-aware integer reads and timestamp arithmetic for the capture
 * reader. Plain byte reads (no `DataView` per record) and no BigInt: 64-bit
 * pcapng timestamps are split with exact long division on 16-bit limbs.
 *
 * @module
 */

/** @internal Unsigned 16-bit read. */
export function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
}

/** @internal Unsigned 32-bit read. */
export function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
    : b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/** @internal Signed 32-bit read. */
export function i32(b: Uint8Array, o: number, le: boolean): number {
  return u32(b, o, le) | 0;
}

/** @internal Rounds a length up to a multiple of 4 (pcapng padding). */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

const POW10: readonly number[] = [
  1,
  10,
  100,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
];

/** @internal Exact powers of ten up to 10^15, `10 ** n` above. */
export function pow10(n: number): number {
  return POW10[n] ?? 10 ** n;
}

/** @internal Output of {@linkcode splitTicks} (reused, no allocation per packet). */
export const ticks = { seconds: 0, nanoseconds: 0 };

const EXACT_LIMIT = 2 ** 37; // r * 65536 + limb stays below 2^53

/**
 * @internal Splits a 64-bit tick count (`high`:`low`) at pcapng resolution
 * `tsresol` (if_tsresol: bit 7 clear = 10^-n s, set = 2^-n s) into whole
 * seconds and nanoseconds, stored in {@linkcode ticks}. Exact whenever the
 * resolution is at most 10^-11 s or 2^-32 s and the seconds fit in 2^53;
 * finer resolutions are rounded through floating point.
 */
export function splitTicks(high: number, low: number, tsresol: number): void {
  const binary = (tsresol & 0x80) !== 0;
  const exp = tsresol & 0x7f;
  const units = binary ? 2 ** exp : pow10(exp);
  if (units > EXACT_LIMIT) {
    const v = high * 4294967296 + low;
    const s = Math.floor(v / units);
    ticks.seconds = s;
    ticks.nanoseconds = Math.min(999_999_999, Math.max(0, Math.floor((v / units - s) * 1e9)));
    return;
  }
  // Long division of the 64-bit value by `units`, 16 bits at a time.
  let cur = high >>> 16;
  let q = Math.floor(cur / units);
  let r = cur - q * units;
  cur = r * 65536 + (high & 0xffff);
  let d = Math.floor(cur / units);
  r = cur - d * units;
  q = q * 65536 + d;
  cur = r * 65536 + (low >>> 16);
  d = Math.floor(cur / units);
  r = cur - d * units;
  q = q * 65536 + d;
  cur = r * 65536 + (low & 0xffff);
  d = Math.floor(cur / units);
  r = cur - d * units;
  q = q * 65536 + d;
  ticks.seconds = q;
  if (!binary) {
    ticks.nanoseconds = exp <= 9 ? r * pow10(9 - exp) : Math.floor(r / pow10(exp - 9));
  } else if (exp <= 9) {
    ticks.nanoseconds = Math.floor((r * 1e9) / units);
  } else {
    // 1e9 = 2^9 * 1953125; r < 2^exp, so r * 1953125 is exact for exp <= 32.
    ticks.nanoseconds = Math.floor((r * 1953125) / 2 ** (exp - 9));
  }
}
