/**
 * The TCP header's fields (RFC 9293 §3.1): the one reader and writer of them
 * that the TCP plugin, the `TcpPacket` view and the decoder share.
 *
 * Each function takes the packet's bytes and the offset where the header
 * starts (`pkt.buf` and `pkt.start` or `pkt.l4` in a plugin, a subarray and 0
 * in a view) and reads or writes one field in network byte order. They
 * allocate nothing and check no bounds: the caller has checked the header
 * length first (as `TcpPacket.check` and the plugin's receive function do).
 * Options are read by `tcp_options.ts`.
 *
 * @module
 */
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/**
 * Header length in bytes (data offset times 4) of the TCP header at `off`
 * (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpHeaderLen } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * b[12] = 0xa0; // data offset 10
 * assert.equal(tcpHeaderLen(b, 0), 40);
 * ```
 */
export function tcpHeaderLen(b: Uint8Array, off: number): number {
  return (b[off + 12]! >>> 4) << 2;
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
 * b[12] = 0x50;
 * b[13] = 0x12; // SYN, ACK
 * assert.equal(tcpFlags(b, 0), 0x12);
 * ```
 */
export function tcpFlags(b: Uint8Array, off: number): number {
  return ((b[off + 12]! & 1) << 8) | b[off + 13]!;
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
 * setTcpHeaderLenAndFlags(b, 0, 32, 0x10);
 * assert.deepEqual([tcpHeaderLen(b, 0), tcpFlags(b, 0)], [32, 0x10]);
 * ```
 */
export function setTcpHeaderLenAndFlags(
  b: Uint8Array,
  off: number,
  headerLen: number,
  flags: number,
): void {
  writeU16(b, off + 12, ((headerLen >>> 2) << 12) | (flags & 0x1ff));
}

/**
 * Source port of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpSrcPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpSrcPort(b, 0), 55920);
 * ```
 */
export function tcpSrcPort(b: Uint8Array, off: number): number {
  return readU16(b, off);
}

/**
 * Writes the source port of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpSrcPort, setTcpSrcPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpSrcPort(b, 0, 55920);
 * assert.equal(tcpSrcPort(b, 0), 55920);
 * ```
 */
export function setTcpSrcPort(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off, value);
}

/**
 * Destination port of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpDstPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpDstPort(b, 0), 80);
 * ```
 */
export function tcpDstPort(b: Uint8Array, off: number): number {
  return readU16(b, off + 2);
}

/**
 * Writes the destination port of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpDstPort, setTcpDstPort } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpDstPort(b, 0, 80);
 * assert.equal(tcpDstPort(b, 0), 80);
 * ```
 */
export function setTcpDstPort(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 2, value);
}

/**
 * Sequence number of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpSeq } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpSeq(b, 0), 0x3758897e);
 * ```
 */
export function tcpSeq(b: Uint8Array, off: number): number {
  return readU32(b, off + 4);
}

/**
 * Writes the sequence number of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpSeq, setTcpSeq } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpSeq(b, 0, 0x3758897e);
 * assert.equal(tcpSeq(b, 0), 0x3758897e);
 * ```
 */
export function setTcpSeq(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 4, value);
}

/**
 * Acknowledgment number of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpAck } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpAck(b, 0), 0x0);
 * ```
 */
export function tcpAck(b: Uint8Array, off: number): number {
  return readU32(b, off + 8);
}

/**
 * Writes the acknowledgment number of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpAck, setTcpAck } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpAck(b, 0, 0x0);
 * assert.equal(tcpAck(b, 0), 0x0);
 * ```
 */
export function setTcpAck(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 8, value);
}

/**
 * Window field (unscaled) of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpWindow } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpWindow(b, 0), 32767);
 * ```
 */
export function tcpWindow(b: Uint8Array, off: number): number {
  return readU16(b, off + 14);
}

/**
 * Writes the window field (unscaled) of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpWindow, setTcpWindow } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpWindow(b, 0, 32767);
 * assert.equal(tcpWindow(b, 0), 32767);
 * ```
 */
export function setTcpWindow(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 14, value);
}

/**
 * Checksum field of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpChecksumField } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpChecksumField(b, 0), 0x1421);
 * ```
 */
export function tcpChecksumField(b: Uint8Array, off: number): number {
  return readU16(b, off + 16);
}

/**
 * Writes the checksum field of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpChecksumField, setTcpChecksumField } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpChecksumField(b, 0, 0x1421);
 * assert.equal(tcpChecksumField(b, 0), 0x1421);
 * ```
 */
export function setTcpChecksumField(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 16, value);
}

/**
 * Urgent pointer of the TCP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { tcpUrgentPointer } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xda, 0x70, 0, 0x50, 0x37, 0x58, 0x89, 0x7e, 0, 0, 0, 0, 0xa0, 2, 0x7f, 0xff, 0x14, 0x21, 0, 0]); // print-flags.pcap SYN 55920 > 80
 * assert.equal(tcpUrgentPointer(b, 0), 0);
 * ```
 */
export function tcpUrgentPointer(b: Uint8Array, off: number): number {
  return readU16(b, off + 18);
}

/**
 * Writes the urgent pointer of the TCP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { tcpUrgentPointer, setTcpUrgentPointer } from "./tcp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setTcpUrgentPointer(b, 0, 0);
 * assert.equal(tcpUrgentPointer(b, 0), 0);
 * ```
 */
export function setTcpUrgentPointer(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 18, value);
}
