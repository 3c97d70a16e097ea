/**
 * Test helpers: hand-built pcap and pcapng files in either byte order, so the
 * reader is tested against bytes that no writer of ours produced.
 *
 * @module
 */

/** @internal Concatenates byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @internal A classic pcap record to build. */
export interface SynthRecord {
  seconds: number;
  fraction: number;
  data: Uint8Array;
  originalLength?: number;
  caplen?: number;
}

/** @internal A classic pcap file in the given byte order and precision. */
export function pcapFile(
  opts: { le: boolean; nano: boolean; linkType: number; snaplen?: number; major?: number },
  records: readonly SynthRecord[],
): Uint8Array {
  const le = opts.le;
  const h = new Uint8Array(24);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, opts.major ?? 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, opts.snaplen ?? 65535, le);
  dv.setUint32(20, opts.linkType, le);
  const parts: Uint8Array[] = [h];
  for (const r of records) {
    const rh = new Uint8Array(16);
    const rdv = new DataView(rh.buffer);
    rdv.setUint32(0, r.seconds, le);
    rdv.setUint32(4, r.fraction, le);
    rdv.setUint32(8, r.caplen ?? r.data.length, le);
    rdv.setUint32(12, r.originalLength ?? r.data.length, le);
    parts.push(rh, r.data);
  }
  return concat(...parts);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** @internal One pcapng option TLV (value padded). */
export function opt(le: boolean, code: number, value: Uint8Array): Uint8Array {
  const o = new Uint8Array(4 + pad4(value.length));
  const dv = new DataView(o.buffer);
  dv.setUint16(0, code, le);
  dv.setUint16(2, value.length, le);
  o.set(value, 4);
  return o;
}

/** @internal opt_endofopt. */
export const END_OF_OPTIONS = new Uint8Array(4);

/** @internal A pcapng block: header, body padded to 4, trailer (`trailer` overrides it). */
export function block(
  le: boolean,
  type: number,
  body: Uint8Array,
  overrides: { length?: number; trailer?: number } = {},
): Uint8Array {
  const len = 12 + pad4(body.length);
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, overrides.length ?? len, le);
  b.set(body, 8);
  dv.setUint32(len - 4, overrides.trailer ?? overrides.length ?? len, le);
  return b;
}

/** @internal A Section Header Block. */
export function shb(le: boolean, opts: { major?: number; bom?: number } = {}): Uint8Array {
  const body = new Uint8Array(16);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, opts.bom ?? 0x1a2b3c4d, le);
  dv.setUint16(4, opts.major ?? 1, le);
  dv.setUint16(6, 0, le);
  dv.setInt32(8, -1, le);
  dv.setInt32(12, -1, le);
  return block(le, 0x0a0d0d0a, body);
}

/** @internal An Interface Description Block with raw option bytes. */
export function idb(
  le: boolean,
  linkType: number,
  opts: { snaplen?: number; options?: readonly Uint8Array[] } = {},
): Uint8Array {
  const head = new Uint8Array(8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, linkType, le);
  dv.setUint32(4, opts.snaplen ?? 0, le);
  const options = opts.options ?? [];
  return block(le, 1, concat(head, ...options, ...(options.length ? [END_OF_OPTIONS] : [])));
}

/** @internal An Enhanced Packet Block (or obsolete Packet Block with `type: 2`). */
export function epb(
  le: boolean,
  p: {
    interfaceId: number;
    high: number;
    low: number;
    data: Uint8Array;
    caplen?: number;
    originalLength?: number;
    options?: readonly Uint8Array[];
    type?: number;
  },
): Uint8Array {
  const head = new Uint8Array(20);
  const dv = new DataView(head.buffer);
  if (p.type === 2) dv.setUint16(0, p.interfaceId, le);
  else dv.setUint32(0, p.interfaceId, le);
  dv.setUint32(4, p.high, le);
  dv.setUint32(8, p.low, le);
  dv.setUint32(12, p.caplen ?? p.data.length, le);
  dv.setUint32(16, p.originalLength ?? p.data.length, le);
  const data = new Uint8Array(pad4(p.data.length));
  data.set(p.data);
  const options = p.options ?? [];
  return block(
    le,
    p.type ?? 6,
    concat(head, data, ...options, ...(options.length ? [END_OF_OPTIONS] : [])),
  );
}

/** @internal A Simple Packet Block. */
export function spb(le: boolean, originalLength: number, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, originalLength, le);
  return block(le, 3, concat(head, data));
}

/** @internal Splits microseconds/ticks into pcapng high/low words. */
export function split64(ticks: bigint): { high: number; low: number } {
  return { high: Number(ticks >> 32n), low: Number(ticks & 0xffffffffn) };
}
