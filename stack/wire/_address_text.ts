/**
 * Text helpers shared by the address parsers (private).
 *
 * @module
 */

/** Parses a dotted quad in `s[start..end)`; see {@linkcode parseIpv4Address}. */
export function parseDottedQuad(s: string, start: number, end: number): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return null; // leading zero: "01" is ambiguous (octal)
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return (value * 256 + octet) >>> 0;
}

/** Parses a decimal prefix length `0..max` in `s[start..end)` (no leading zeros). */
export function parsePrefixLength(
  s: string,
  start: number,
  end: number,
  max: number,
): number | null {
  if (end <= start || end - start > 3) return null;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    if (i > start && n === 0) return null;
    n = n * 10 + (c - 0x30);
  }
  return n <= max ? n : null;
}

export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
