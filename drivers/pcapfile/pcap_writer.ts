/**
 * Writing captures: {@linkcode PcapWriter} (classic pcap, microseconds,
 * little-endian, one link type per file) and {@linkcode PcapngWriter}
 * (several interfaces with their own link types, packet direction). Both
 * write to memory ({@linkcode PcapWriter.bytes}), to a function, or to a file
 * with synchronous writes, and both copy the packet bytes at `write` time, so
 * callers may pass borrowed frames.
 *
 * Byte order: the files are little-endian, so the `DataView` calls here pass
 * `true`, unlike the big-endian wire views in `stack/wire`.
 *
 * @module
 */
import { type CaptureSink, SinkWriter } from "./_sink.ts";
import {
  type CaptureDirection,
  DEFAULT_SNAPLEN,
  PCAP_FILE_HEADER_LEN,
  PCAP_MAGIC_MICRO,
  PCAP_RECORD_HEADER_LEN,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_EPB,
  PCAPNG_IDB,
  PCAPNG_SHB,
} from "./format.ts";

export type { CaptureSink } from "./_sink.ts";

/**
 * A packet to write.
 *
 * @example
 * ```ts
 * import { type CaptureWriteRecord, DIRECTION_OUTBOUND } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const rec: CaptureWriteRecord = {
 *   timestamp: 1_700_000_000_000_000, // µs since the epoch
 *   data: new Uint8Array([0x45]),
 *   direction: DIRECTION_OUTBOUND, // pcapng only
 * };
 * assert.equal(rec.data.length, 1);
 * ```
 */
export interface CaptureWriteRecord {
  /** Microseconds since the Unix epoch (non-negative; fractions are dropped). */
  readonly timestamp: number;
  /** The frame; copied during `write` (up to the snaplen). */
  readonly data: Uint8Array;
  /** Length on the wire (default `data.length`). */
  readonly originalLength?: number;
  /** pcapng interface id (default 0); ignored by {@linkcode PcapWriter}. */
  readonly interfaceId?: number;
  /** pcapng `epb_flags` direction; ignored by {@linkcode PcapWriter}. */
  readonly direction?: CaptureDirection;
}

/**
 * Anything that takes packets: {@linkcode PcapWriter}, {@linkcode PcapngWriter}
 * or a test double. `write` must copy what it keeps from `record.data`.
 *
 * @example
 * ```ts
 * import { type CaptureWriter, type CaptureWriteRecord } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const seen: number[] = [];
 * const w: CaptureWriter = { write: (r: CaptureWriteRecord) => void seen.push(r.data.length) };
 * w.write({ timestamp: 0, data: new Uint8Array(3) });
 * assert.deepEqual(seen, [3]);
 * ```
 */
export interface CaptureWriter {
  /** Records one packet (copies its bytes). */
  write(record: CaptureWriteRecord): void;
}

/**
 * Options of {@linkcode PcapWriter}.
 *
 * @example
 * ```ts
 * import { type PcapWriterOptions, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const chunks: Uint8Array[] = [];
 * const options: PcapWriterOptions = { linkType: 101, sink: (c) => void chunks.push(c) };
 * new PcapWriter(options);
 * assert.equal(chunks[0]!.length, 24); // the file header, written at once
 * ```
 */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet in the file. */
  readonly linkType: number;
  /** Snapshot length: longer packets are cut (default {@linkcode DEFAULT_SNAPLEN}). */
  readonly snaplen?: number;
  /** Where bytes go; without one they are kept for {@linkcode PcapWriter.bytes}. */
  readonly sink?: CaptureSink;
  /** Batch writes to the sink until this many bytes are pending (default 0: write each packet). */
  readonly bufferSize?: number;
}

/**
 * Writes a classic pcap file: magic 0xa1b2c3d4 in little-endian order
 * (microsecond timestamps), version 2.4, one link type.
 *
 * @example
 * ```ts
 * import { parseCapture, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * const frame = new Uint8Array(60).fill(0xab);
 * w.write({ timestamp: 1_600_000_000_250_000, data: frame });
 * frame.fill(0); // the writer copied it
 * assert.equal(w.count, 1);
 * const { records } = parseCapture(w.bytes());
 * assert.equal(records[0]!.timestamp, 1_600_000_000_250_000);
 * assert.equal(records[0]!.data[0], 0xab);
 * ```
 */
export class PcapWriter extends SinkWriter implements CaptureWriter {
  /** LINKTYPE_* of the file. */
  readonly linkType: number;
  /** Snapshot length of the file. */
  readonly snaplen: number;

  /**
   * Writes the file header at once.
   *
   * @throws {RangeError} If `linkType`, `snaplen` or `bufferSize` is out of range.
   */
  constructor(options: PcapWriterOptions) {
    const linkType = checkUint("linkType", options.linkType, 0x03ffffff);
    const snaplen = checkUint("snaplen", options.snaplen ?? DEFAULT_SNAPLEN, 0xffffffff);
    if (snaplen === 0) throw new RangeError("Cannot create pcap writer: snaplen is 0");
    super("pcap", options.sink, checkUint("bufferSize", options.bufferSize ?? 0, 2 ** 30));
    this.linkType = linkType;
    this.snaplen = snaplen;
    const h = new Uint8Array(PCAP_FILE_HEADER_LEN);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, PCAP_MAGIC_MICRO, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    // thiszone and sigfigs stay 0
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, this.linkType, true);
    this.push(h);
  }

  /**
   * Creates (or truncates) the file at `path` and writes to it with
   * `writeSync`, 64 KiB at a time; {@linkcode close} flushes and closes it.
   */
  static create(
    path: string | URL,
    options: Omit<PcapWriterOptions, "sink">,
  ): PcapWriter {
    return SinkWriter.openFile(
      path,
      (file) => new PcapWriter({ bufferSize: 65536, ...options, sink: file }),
    );
  }

  /**
   * Appends a record, copying at most `snaplen` bytes of `record.data`.
   *
   * @throws {RangeError} If the timestamp is negative, not finite, or after
   * 2106 (pcap seconds are 32-bit), or `originalLength` is not a 32-bit integer.
   */
  write(record: CaptureWriteRecord): void {
    const ts = checkTimestamp(record.timestamp);
    const seconds = Math.floor(ts / 1e6);
    if (seconds > 0xffffffff) {
      throw new RangeError(`Cannot write pcap record: timestamp ${ts} is past 2106`);
    }
    const data = record.data;
    const caplen = Math.min(data.length, this.snaplen);
    const orig = checkUint("originalLength", record.originalLength ?? data.length, 0xffffffff);
    const buf = new Uint8Array(PCAP_RECORD_HEADER_LEN + caplen);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, seconds, true);
    dv.setUint32(4, ts - seconds * 1e6, true);
    dv.setUint32(8, caplen, true);
    dv.setUint32(12, orig, true);
    buf.set(caplen === data.length ? data : data.subarray(0, caplen), PCAP_RECORD_HEADER_LEN);
    this.pushPacket(buf);
  }
}

/**
 * An interface of a {@linkcode PcapngWriter}.
 *
 * @example
 * ```ts
 * import { type PcapngInterfaceOptions, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const tun: PcapngInterfaceOptions = { linkType: 101, name: "tun0" };
 * assert.equal(new PcapngWriter().addInterface(tun), 0);
 * ```
 */
export interface PcapngInterfaceOptions {
  /** LINKTYPE_* of the packets on this interface. */
  readonly linkType: number;
  /** Snapshot length (default {@linkcode DEFAULT_SNAPLEN}). */
  readonly snaplen?: number;
  /** `if_name`, e.g. "tap0". */
  readonly name?: string;
}

/**
 * Options of {@linkcode PcapngWriter}.
 *
 * @example
 * ```ts
 * import { type PcapngWriterOptions, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const options: PcapngWriterOptions = { interfaces: [{ linkType: 1 }, { linkType: 101 }] };
 * assert.equal(new PcapngWriter(options).interfaces.length, 2);
 * ```
 */
export interface PcapngWriterOptions {
  /** Interfaces to describe at once (ids 0, 1, …); more with {@linkcode PcapngWriter.addInterface}. */
  readonly interfaces?: readonly PcapngInterfaceOptions[];
  /** `shb_userappl` (default "deno-netstack"; "" for none). */
  readonly application?: string;
  /** Where bytes go; without one they are kept for {@linkcode PcapngWriter.bytes}. */
  readonly sink?: CaptureSink;
  /** Batch writes to the sink until this many bytes are pending (default 0: write each packet). */
  readonly bufferSize?: number;
}

const utf8 = new TextEncoder();

/**
 * Writes a pcapng file (little-endian, one section, microsecond timestamps):
 * a Section Header Block, an Interface Description Block per interface, and
 * an Enhanced Packet Block per packet, with `epb_flags` when a direction is
 * given. Useful when one capture mixes link types (Ethernet and raw IP).
 *
 * @example
 * ```ts
 * import { DIRECTION_INBOUND, parseCapture, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapngWriter();
 * const eth = w.addInterface({ linkType: 1, name: "tap0" });
 * const tun = w.addInterface({ linkType: 101, name: "tun0" });
 * w.write({ timestamp: 10, data: new Uint8Array(14), interfaceId: eth });
 * w.write({ timestamp: 20, data: new Uint8Array([0x45]), interfaceId: tun, direction: DIRECTION_INBOUND });
 * const { records, interfaces } = parseCapture(w.bytes());
 * assert.deepEqual(records.map((r) => r.linkType), [1, 101]);
 * assert.equal(records[1]!.direction, DIRECTION_INBOUND);
 * assert.equal(interfaces[1]!.name, "tun0");
 * ```
 */
export class PcapngWriter extends SinkWriter implements CaptureWriter {
  readonly #interfaces: Required<PcapngInterfaceOptions>[] = [];

  /**
   * Writes the section header (and the given interfaces) at once.
   *
   * @throws {RangeError} If an interface option is out of range.
   */
  constructor(options: PcapngWriterOptions = {}) {
    super("pcapng", options.sink, checkUint("bufferSize", options.bufferSize ?? 0, 2 ** 30));
    const app = options.application ?? "deno-netstack";
    const opts = app === "" ? [] : [option(4, utf8.encode(app))];
    const b = block(PCAPNG_SHB, 16, opts);
    const dv = new DataView(b.buffer);
    dv.setUint32(8, PCAPNG_BYTE_ORDER_MAGIC, true);
    dv.setUint16(12, 1, true); // version 1.0
    dv.setUint16(14, 0, true);
    dv.setInt32(16, -1, true); // section length not given
    dv.setInt32(20, -1, true);
    this.push(b);
    for (const ifc of options.interfaces ?? []) this.addInterface(ifc);
  }

  /** Like {@linkcode PcapWriter.create}, for pcapng. */
  static create(
    path: string | URL,
    options: Omit<PcapngWriterOptions, "sink"> = {},
  ): PcapngWriter {
    return SinkWriter.openFile(
      path,
      (file) => new PcapngWriter({ bufferSize: 65536, ...options, sink: file }),
    );
  }

  /**
   * Describes a new interface and returns its id (0, 1, …).
   *
   * @throws {RangeError} If `linkType` or `snaplen` is out of range.
   */
  addInterface(options: PcapngInterfaceOptions): number {
    const ifc = {
      linkType: checkUint("linkType", options.linkType, 0xffff),
      snaplen: checkUint("snaplen", options.snaplen ?? DEFAULT_SNAPLEN, 0xffffffff),
      name: options.name ?? "",
    };
    const opts = [option(9, new Uint8Array([6]))]; // if_tsresol: microseconds
    if (ifc.name !== "") opts.unshift(option(2, utf8.encode(ifc.name)));
    const b = block(PCAPNG_IDB, 8, opts);
    const dv = new DataView(b.buffer);
    dv.setUint16(8, ifc.linkType, true);
    dv.setUint32(12, ifc.snaplen, true);
    this.push(b);
    this.#interfaces.push(ifc);
    return this.#interfaces.length - 1;
  }

  /** The interfaces described so far. */
  get interfaces(): readonly Required<PcapngInterfaceOptions>[] {
    return this.#interfaces;
  }

  /**
   * Appends an Enhanced Packet Block, copying at most the interface's
   * snaplen bytes of `record.data`.
   *
   * @throws {RangeError} If the interface does not exist, the timestamp is
   * negative or not finite, or `originalLength` is not a 32-bit integer.
   */
  write(record: CaptureWriteRecord): void {
    const id = record.interfaceId ?? 0;
    const ifc = this.#interfaces[id];
    if (ifc === undefined) {
      throw new RangeError(`Cannot write pcapng record: no interface ${id} (call addInterface)`);
    }
    const ts = checkTimestamp(record.timestamp);
    const data = record.data;
    const caplen = ifc.snaplen > 0 ? Math.min(data.length, ifc.snaplen) : data.length;
    const orig = checkUint("originalLength", record.originalLength ?? data.length, 0xffffffff);
    const dir = record.direction ?? 0;
    const optLen = dir !== 0 ? 12 : 0; // epb_flags (8) + opt_endofopt (4)
    const len = 32 + pad(caplen) + optLen;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, PCAPNG_EPB, true);
    dv.setUint32(4, len, true);
    dv.setUint32(8, id, true);
    const high = Math.floor(ts / 4294967296);
    dv.setUint32(12, high, true);
    dv.setUint32(16, ts - high * 4294967296, true);
    dv.setUint32(20, caplen, true);
    dv.setUint32(24, orig, true);
    b.set(caplen === data.length ? data : data.subarray(0, caplen), 28);
    if (optLen !== 0) {
      const o = 28 + pad(caplen);
      dv.setUint16(o, 2, true); // epb_flags
      dv.setUint16(o + 2, 4, true);
      dv.setUint32(o + 4, dir & 3, true);
    }
    dv.setUint32(len - 4, len, true);
    this.pushPacket(b);
  }
}

function pad(n: number): number {
  return (n + 3) & ~3;
}

/** An option TLV, value padded to 4 bytes. */
function option(code: number, value: Uint8Array): Uint8Array {
  const o = new Uint8Array(4 + pad(value.length));
  const dv = new DataView(o.buffer);
  dv.setUint16(0, code, true);
  dv.setUint16(2, value.length, true);
  o.set(value, 4);
  return o;
}

/** A block with `fixed` body bytes after the 8-byte header, then options and the trailer. */
function block(type: number, fixed: number, options: readonly Uint8Array[]): Uint8Array {
  let optLen = 0;
  for (const o of options) optLen += o.length;
  if (options.length > 0) optLen += 4; // opt_endofopt
  const len = 8 + fixed + optLen + 4;
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, len, true);
  let at = 8 + fixed;
  for (const o of options) {
    b.set(o, at);
    at += o.length;
  }
  dv.setUint32(len - 4, len, true);
  return b;
}

function checkUint(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Cannot write capture: ${name} must be an integer in 0..${max}, got ${v}`);
  }
  return v;
}

function checkTimestamp(ts: number): number {
  if (!(ts >= 0) || !Number.isFinite(ts)) {
    throw new RangeError(`Cannot write capture: timestamp ${ts} is not a non-negative number`);
  }
  return Math.floor(ts);
}
