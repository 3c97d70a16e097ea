/**
 * The TCP header's fields (RFC 9293 §3.1): the one reader and writer of them
 * that the TCP plugin, the `TcpPacket` view and the decoder share.
 *
 * Each function takes a `DataView` over the packet and the offset where the
 * header starts (`pkt.dv` and `pkt.start` or `pkt.l4` in a plugin; a view or the
 * decoder makes one `DataView` per buffer) and reads or writes one field in
 * network byte order. V8 compiles a big-endian `getUint16`/`getUint32` to one
 * load and a byte swap, where byte-wise reads cost two to four checked loads.
 * They allocate nothing and check no bounds: the caller has checked the
 * header length first (as `TcpPacket.check` and the plugin's receive function do); out of range, `DataView` throws.
 * Options are read by `tcp_options.ts`.
 *
 * @module
 */

/**
 * Header length in bytes (data offset times 4) of the TCP header at `off`
 * (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpHeaderLen } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * b[12] = 0xa0; // data offset 10
 * assert.equal(tcpHeaderLen(dv, 0), 40);
 * ```
 */
export function tcpHeaderLen(dv: DataView, off: number): number {
  return (dv.getUint8(off + 12) >>> 4) << 2;
}

/**
 * The nine flag bits (`TCP_FIN` … `TCP_AE` of `tcp.ts`) of the TCP header at
 * `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpFlags } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * b[12] = 0x50;
 * b[13] = 0x12; // SYN, ACK
 * assert.equal(tcpFlags(dv, 0), 0x12);
 * ```
 */
export function tcpFlags(dv: DataView, off: number): number {
  return dv.getUint16(off + 12) & 0x1ff;
}

/**
 * Writes the data offset (from `headerLen`, bytes, a multiple of 4 from 20
 * to 60) and the nine flag bits of the TCP header at `off`; the reserved
 * bits become 0 (hot path).
 *
 * @example
 * ```ts
 * import { setTcpHeaderLenAndFlags, tcpFlags, tcpHeaderLen } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpHeaderLenAndFlags(dv, 0, 32, 0x10);
 * assert.deepEqual([tcpHeaderLen(dv, 0), tcpFlags(dv, 0)], [32, 0x10]);
 * ```
 */
export function setTcpHeaderLenAndFlags(
  dv: DataView,
  off: number,
  headerLen: number,
  flags: number,
): void {
  dv.setUint16(off + 12, ((headerLen >>> 2) << 12) | (flags & 0x1ff));
}

/**
 * Source port of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpSrcPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpSrcPort(dv, 0), 55920);
 * ```
 */
export function tcpSrcPort(dv: DataView, off: number): number {
  return dv.getUint16(off);
}

/**
 * Writes the source port of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpSrcPort, setTcpSrcPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpSrcPort(dv, 0, 55920);
 * assert.equal(tcpSrcPort(dv, 0), 55920);
 * ```
 */
export function setTcpSrcPort(dv: DataView, off: number, value: number): void {
  dv.setUint16(off, value);
}

/**
 * Destination port of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpDstPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpDstPort(dv, 0), 80);
 * ```
 */
export function tcpDstPort(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/**
 * Writes the destination port of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpDstPort, setTcpDstPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpDstPort(dv, 0, 80);
 * assert.equal(tcpDstPort(dv, 0), 80);
 * ```
 */
export function setTcpDstPort(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 2, value);
}

/**
 * Sequence number of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpSeq } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpSeq(dv, 0), 0x3758897e);
 * ```
 */
export function tcpSeq(dv: DataView, off: number): number {
  return dv.getUint32(off + 4);
}

/**
 * Writes the sequence number of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpSeq, setTcpSeq } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpSeq(dv, 0, 0x3758897e);
 * assert.equal(tcpSeq(dv, 0), 0x3758897e);
 * ```
 */
export function setTcpSeq(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 4, value);
}

/**
 * Acknowledgment number of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpAck } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpAck(dv, 0), 0x0);
 * ```
 */
export function tcpAck(dv: DataView, off: number): number {
  return dv.getUint32(off + 8);
}

/**
 * Writes the acknowledgment number of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpAck, setTcpAck } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpAck(dv, 0, 0x0);
 * assert.equal(tcpAck(dv, 0), 0x0);
 * ```
 */
export function setTcpAck(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 8, value);
}

/**
 * Window field (unscaled) of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpWindow } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpWindow(dv, 0), 32767);
 * ```
 */
export function tcpWindow(dv: DataView, off: number): number {
  return dv.getUint16(off + 14);
}

/**
 * Writes the window field (unscaled) of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpWindow, setTcpWindow } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpWindow(dv, 0, 32767);
 * assert.equal(tcpWindow(dv, 0), 32767);
 * ```
 */
export function setTcpWindow(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 14, value);
}

/**
 * Checksum field of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpChecksumField } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpChecksumField(dv, 0), 0x1421);
 * ```
 */
export function tcpChecksumField(dv: DataView, off: number): number {
  return dv.getUint16(off + 16);
}

/**
 * Writes the checksum field of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpChecksumField, setTcpChecksumField } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpChecksumField(dv, 0, 0x1421);
 * assert.equal(tcpChecksumField(dv, 0), 0x1421);
 * ```
 */
export function setTcpChecksumField(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 16, value);
}

/**
 * Urgent pointer of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpUrgentPointer } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * const dv = new DataView(b.buffer);
 * assert.equal(tcpUrgentPointer(dv, 0), 0);
 * ```
 */
export function tcpUrgentPointer(dv: DataView, off: number): number {
  return dv.getUint16(off + 18);
}

/**
 * Writes the urgent pointer of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpUrgentPointer, setTcpUrgentPointer } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setTcpUrgentPointer(dv, 0, 0);
 * assert.equal(tcpUrgentPointer(dv, 0), 0);
 * ```
 */
export function setTcpUrgentPointer(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 18, value);
}

/**
 * Writes the fixed 20 bytes of a TCP header at `off` in five 32-bit stores
 * (the send path writes one per segment; eight field setters cost more
 * checked stores and, in a large caller, calls): ports, `seq`, `ack`,
 * `headerLen` with `flags` and `window`, a zero checksum and urgent
 * pointer. Options and the checksum are the caller's. Hot path: positional.
 *
 * @example
 * ```ts
 * import { tcpAck, tcpDstPort, tcpFlags, tcpHeaderLen, tcpSeq, tcpWindow, writeTcpFixedHeader } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const dv = new DataView(new ArrayBuffer(20));
 * writeTcpFixedHeader(dv, 0, 40000, 80, 0xfffffff0, 7, 20, 0x18, 65535);
 * assert.equal(tcpDstPort(dv, 0), 80);
 * assert.equal(tcpSeq(dv, 0), 0xfffffff0);
 * assert.equal(tcpAck(dv, 0), 7);
 * assert.equal(tcpHeaderLen(dv, 0), 20);
 * assert.equal(tcpFlags(dv, 0), 0x18);
 * assert.equal(tcpWindow(dv, 0), 65535);
 * ```
 */
export function writeTcpFixedHeader(
  dv: DataView,
  off: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  headerLen: number,
  flags: number,
  window: number,
): void {
  dv.setUint32(off, ((srcPort & 0xffff) << 16) | (dstPort & 0xffff));
  dv.setUint32(off + 4, seq);
  dv.setUint32(off + 8, ack);
  dv.setUint32(off + 12, ((((headerLen >>> 2) << 12) | (flags & 0x1ff)) << 16) | (window & 0xffff));
  dv.setUint32(off + 16, 0);
}
