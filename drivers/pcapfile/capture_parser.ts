/**
 * The incremental pcap / pcapng parser behind every capture reader: bytes go
 * in with {@linkcode CaptureParser.push}, records come out of
 * {@linkcode CaptureParser.next}. It does no I/O, keeps at most one block
 * plus one chunk of input, and never throws on bad data: a corrupt or
 * truncated file ends with {@linkcode CaptureParser.error}; a bad block whose
 * length is sane becomes a warning and is skipped.
 *
 * @module
 */
import { ChunkQueue } from "./_chunk_queue.ts";
import { i32, pad4, splitTicks, ticks, u16, u32 } from "./_bytes.ts";
import {
  type CaptureDirection,
  type CaptureFormat,
  DEFAULT_MAX_BLOCK_LENGTH,
  DEFAULT_MAX_CAPLEN,
  DEFAULT_MAX_INTERFACES,
  DIRECTION_UNKNOWN,
  MAX_BLOCK_LENGTH_LIMIT,
  MAX_INTERFACE_NAME_BYTES,
  PCAP_FILE_HEADER_LEN,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
  PCAP_RECORD_HEADER_LEN,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_EPB,
  PCAPNG_IDB,
  PCAPNG_PB,
  PCAPNG_SHB,
  PCAPNG_SPB,
} from "./format.ts";
import {
  type CaptureErrorCode,
  CaptureFormatError,
  type CaptureInterface,
  type CaptureReaderOptions,
  type CaptureRecord,
} from "./types.ts";

const START = 0;
const PCAP = 1;
const PCAPNG = 2;
const DONE = 3;
const FAILED = 4;

const MODIFIED_PCAP_MAGIC = 0xa1b2cd34;
const OPT_ENDOFOPT = 0;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_EPB_FLAGS = 2;

const utf8 = new TextDecoder();

/**
 * A pull parser over pushed chunks, for both classic pcap (either byte
 * order, microsecond or nanosecond magic) and pcapng (several sections of
 * either byte order, several interfaces with their own link type and
 * `if_tsresol`, Enhanced / Simple / obsolete Packet Blocks; other blocks are
 * skipped).
 *
 * Call {@linkcode next} until it returns `null`; then either
 * {@linkcode needsInput} is true (push more, or call {@linkcode end} at end of
 * file) or the capture is over and {@linkcode error} says whether it ended
 * cleanly.
 *
 * @example
 * ```ts
 * import { CaptureParser, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * w.write({ timestamp: 1_000_000_500, data: new Uint8Array([1, 2, 3]) });
 * const file = w.bytes();
 * const p = new CaptureParser();
 * p.push(file.subarray(0, 30)); // a partial record
 * assert.equal(p.next(), null);
 * assert.equal(p.needsInput, true);
 * p.push(file.subarray(30));
 * p.end();
 * const rec = p.next()!;
 * assert.equal(rec.timestamp, 1_000_000_500);
 * assert.deepEqual([...rec.data], [1, 2, 3]);
 * assert.equal(p.next(), null);
 * assert.equal(p.needsInput, false);
 * assert.equal(p.error, null);
 * ```
 */
export class CaptureParser {
  readonly #q = new ChunkQueue();
  readonly #maxCaplen: number;
  readonly #maxBlockLength: number;
  readonly #maxWarnings: number;
  readonly #maxInterfaces: number;
  readonly #onWarning: ((warning: CaptureFormatError) => void) | undefined;
  #state = START;
  #ended = false;
  #le = true;
  #nanoPcap = false;
  #format: CaptureFormat | null = null;
  readonly #interfaces: CaptureInterface[] = [];
  #sectionBase = 0;
  #section = -1;
  #error: CaptureFormatError | null = null;
  readonly #warnings: CaptureFormatError[] = [];
  #warningCount = 0;
  #count = 0;
  #skippedBlocks = 0;

  /**
   * Creates a parser waiting for the file header.
   *
   * @param options Limits and the warning callback.
   * @throws {RangeError} If a limit is not a positive integer or
   * `maxBlockLength` exceeds {@linkcode MAX_BLOCK_LENGTH_LIMIT}.
   */
  constructor(options: CaptureReaderOptions = {}) {
    this.#maxCaplen = checkLimit("maxCaplen", options.maxCaplen ?? DEFAULT_MAX_CAPLEN);
    this.#maxBlockLength = checkLimit(
      "maxBlockLength",
      options.maxBlockLength ?? DEFAULT_MAX_BLOCK_LENGTH,
    );
    if (this.#maxBlockLength > MAX_BLOCK_LENGTH_LIMIT) {
      throw new RangeError(
        `Cannot create capture parser: maxBlockLength ${this.#maxBlockLength} exceeds ${MAX_BLOCK_LENGTH_LIMIT}`,
      );
    }
    this.#maxWarnings = options.maxWarnings ?? 100;
    this.#maxInterfaces = checkLimit(
      "maxInterfaces",
      options.maxInterfaces ?? DEFAULT_MAX_INTERFACES,
    );
    this.#onWarning = options.onWarning;
  }

  /**
   * Appends input. The parser keeps a reference to `chunk` (records are views
   * into it), so the caller must not reuse or modify it afterwards.
   */
  push(chunk: Uint8Array): void {
    if (!this.#ended) this.#q.push(chunk);
  }

  /**
   * Appends input like {@linkcode push}, but copies it where a reference
   * would keep alive more memory than its bytes (small chunks are coalesced,
   * a small view of a large buffer is copied out), so what the parser keeps
   * is bounded by the block length whatever the chunking. The streaming
   * readers feed the parser this way.
   */
  append(chunk: Uint8Array): void {
    if (!this.#ended) this.#q.append(chunk);
  }

  /** Marks the end of input: a partial header or block left over is a `truncated` error. */
  end(): void {
    this.#ended = true;
  }

  /** True when {@linkcode next} returned `null` only because it needs more input. */
  get needsInput(): boolean {
    return !this.#ended && this.#state < DONE;
  }
  /** True once the capture is over, cleanly or with an {@linkcode error}. */
  get done(): boolean {
    return this.#state >= DONE;
  }
  /** The fatal error that ended the capture, or `null`. */
  get error(): CaptureFormatError | null {
    return this.#error;
  }
  /** Warnings so far (bad blocks skipped), at most `maxWarnings` of them. */
  get warnings(): readonly CaptureFormatError[] {
    return this.#warnings;
  }
  /** Number of warnings so far, including those not kept in {@linkcode warnings}. */
  get warningCount(): number {
    return this.#warningCount;
  }
  /** `"pcap"` or `"pcapng"` once the file header has been read. */
  get format(): CaptureFormat | null {
    return this.#format;
  }
  /** True when the current section is little-endian. */
  get littleEndian(): boolean {
    return this.#le;
  }
  /** Interfaces described so far (one for classic pcap), indexed by global id. */
  get interfaces(): readonly CaptureInterface[] {
    return this.#interfaces;
  }
  /** Number of records returned so far. */
  get count(): number {
    return this.#count;
  }
  /** Number of pcapng blocks skipped because their type is not a packet or description. */
  get skippedBlocks(): number {
    return this.#skippedBlocks;
  }
  /**
   * Bytes of input buffers the parser keeps alive (unread input and the
   * buffers it sits in); bounded by twice the largest block plus
   * about 128 KiB, whatever the chunking.
   */
  get bufferedBytes(): number {
    return this.#q.retainedBytes;
  }
  /** Stream offset of the next unread byte. */
  get offset(): number {
    return this.#q.offset;
  }

  /** The next record, or `null` (see {@linkcode needsInput} and {@linkcode done}). */
  next(): CaptureRecord | null {
    for (;;) {
      switch (this.#state) {
        case START:
          if (!this.#fileHeader()) return null;
          break;
        case PCAP: {
          const r = this.#pcapRecord();
          if (r !== undefined) return r;
          break;
        }
        case PCAPNG: {
          const r = this.#block();
          if (r !== undefined) return r;
          break;
        }
        default:
          return null;
      }
    }
  }

  #fail(code: CaptureErrorCode, at: number, detail: string): null {
    this.#error = new CaptureFormatError(`Cannot read capture at byte ${at}: ${detail}`, {
      code,
      offset: at,
      fatal: true,
    });
    this.#state = FAILED;
    return null;
  }

  #warn(code: CaptureErrorCode, at: number, detail: string): undefined {
    const w = new CaptureFormatError(`Capture block at byte ${at}: ${detail}`, {
      code,
      offset: at,
      fatal: false,
    });
    this.#warningCount++;
    if (this.#warnings.length < this.#maxWarnings) this.#warnings.push(w);
    this.#onWarning?.(w);
    return undefined;
  }

  /** Not enough bytes for `need`: wait for more, or fail at end of input. */
  #short(need: number, what: string): null {
    if (!this.#ended) return null;
    const q = this.#q;
    return this.#fail(
      "truncated",
      q.offset,
      `file ends inside the ${what} (${q.available} of ${need} bytes present)`,
    );
  }

  #fileHeader(): boolean {
    const q = this.#q;
    const m = q.view(4);
    if (m === null) {
      this.#short(4, "file header");
      return false;
    }
    const be = u32(m, 0, false);
    if (be === PCAPNG_SHB) {
      this.#format = "pcapng";
      this.#state = PCAPNG;
      return true;
    }
    const le = u32(m, 0, true);
    if (be === PCAP_MAGIC_MICRO || be === PCAP_MAGIC_NANO) this.#le = false;
    else if (le === PCAP_MAGIC_MICRO || le === PCAP_MAGIC_NANO) this.#le = true;
    else {
      const hint = be === MODIFIED_PCAP_MAGIC || le === MODIFIED_PCAP_MAGIC
        ? " (modified pcap is not supported)"
        : "";
      this.#fail("bad_magic", 0, `unknown magic number 0x${hex(be)}${hint}`);
      return false;
    }
    this.#nanoPcap = (this.#le ? le : be) === PCAP_MAGIC_NANO;
    this.#format = "pcap";
    const h = q.view(PCAP_FILE_HEADER_LEN);
    if (h === null) {
      this.#short(PCAP_FILE_HEADER_LEN, "pcap file header");
      return false;
    }
    const major = u16(h, 4, this.#le);
    if (major !== 2) {
      this.#fail("unsupported_version", 0, `pcap version ${major}.${u16(h, 6, this.#le)}`);
      return false;
    }
    this.#interfaces.push({
      id: 0,
      section: 0,
      localId: 0,
      linkType: u32(h, 20, this.#le) & 0x03ffffff, // upper bits carry FCS info
      snaplen: u32(h, 16, this.#le),
      tsresol: this.#nanoPcap ? 9 : 6,
      tsoffset: 0,
      name: "",
    });
    this.#section = 0;
    q.consume(PCAP_FILE_HEADER_LEN);
    this.#state = PCAP;
    return true;
  }

  /** A classic pcap record; undefined when one was skipped (the caller reads on). */
  #pcapRecord(): CaptureRecord | null | undefined {
    const q = this.#q;
    const at = q.offset;
    if (q.available === 0 && this.#ended) {
      this.#state = DONE;
      return null;
    }
    const le = this.#le;
    const h = q.view(PCAP_RECORD_HEADER_LEN);
    if (h === null) return this.#short(PCAP_RECORD_HEADER_LEN, "record header");
    const caplen = u32(h, 8, le);
    if (caplen > this.#maxCaplen) {
      return this.#fail(
        "caplen_too_large",
        at,
        `captured length ${caplen} exceeds the limit of ${this.#maxCaplen}`,
      );
    }
    const total = PCAP_RECORD_HEADER_LEN + caplen;
    const r = q.view(total);
    if (r === null) return this.#short(total, "packet record");
    let seconds = u32(r, 0, le);
    const frac = u32(r, 4, le);
    let nanos = this.#nanoPcap ? frac : frac * 1000;
    if (nanos >= 1e9) {
      seconds += Math.floor(nanos / 1e9);
      nanos %= 1e9;
    }
    q.consume(total);
    const ifc = this.#interfaces[0]!;
    const data = r.subarray(PCAP_RECORD_HEADER_LEN);
    return this.#record(data, u32(r, 12, le), ifc, seconds, nanos, DIRECTION_UNKNOWN, at);
  }

  /** Builds a record (hot path: positional arguments, one allocation). */
  #record(
    data: Uint8Array,
    originalLength: number,
    ifc: CaptureInterface,
    seconds: number,
    nanos: number,
    direction: CaptureDirection,
    at: number,
  ): CaptureRecord | undefined {
    // The whole µs value must be exact, not just the seconds part.
    const timestamp = seconds * 1e6 + Math.floor(nanos / 1000);
    if (!Number.isSafeInteger(timestamp)) {
      return this.#warn("bad_timestamp", at, `timestamp of ${seconds} s is out of range; skipped`);
    }
    return {
      index: ++this.#count,
      timestamp,
      seconds,
      nanoseconds: nanos,
      linkType: ifc.linkType,
      data,
      originalLength,
      interfaceId: ifc.id,
      direction,
      fileOffset: at,
    };
  }

  /** One pcapng block: a record, `null` (need input / over) or `undefined` (go on). */
  #block(): CaptureRecord | null | undefined {
    const q = this.#q;
    const at = q.offset;
    if (q.available === 0 && this.#ended) {
      this.#state = DONE;
      return null;
    }
    const h = q.view(8);
    if (h === null) return this.#short(8, "block header");
    const type = u32(h, 0, this.#le);
    if (type === PCAPNG_SHB) {
      const s = q.view(12);
      if (s === null) return this.#short(12, "section header block");
      if (u32(s, 8, true) === PCAPNG_BYTE_ORDER_MAGIC) this.#le = true;
      else if (u32(s, 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.#le = false;
      else {return this.#fail(
          "bad_byte_order",
          at,
          `bad byte-order magic 0x${hex(u32(s, 8, false))}`,
        );}
    }
    const le = this.#le;
    const len = u32(h, 4, le);
    if (len < 12 || len % 4 !== 0) {
      return this.#fail("bad_block_length", at, `block length ${len} is invalid`);
    }
    if (len > this.#maxBlockLength) {
      return this.#fail(
        "block_too_large",
        at,
        `block length ${len} exceeds the limit of ${this.#maxBlockLength}`,
      );
    }
    const b = q.view(len);
    if (b === null) return this.#short(len, `block of type 0x${hex(type)}`);
    const trailer = u32(b, len - 4, le);
    if (trailer !== len) {
      return this.#fail(
        "bad_block_length",
        at,
        `trailing block length ${trailer} differs from the leading length ${len}`,
      );
    }
    q.consume(len);
    switch (type) {
      case PCAPNG_SHB:
        return this.#sectionHeader(b, at);
      case PCAPNG_IDB:
        return this.#interfaceDescription(b, at);
      case PCAPNG_EPB:
      case PCAPNG_PB:
        return this.#packetBlock(b, type, at);
      case PCAPNG_SPB:
        return this.#simplePacket(b, at);
      default:
        this.#skippedBlocks++;
        return undefined;
    }
  }

  #sectionHeader(b: Uint8Array, at: number): null | undefined {
    if (b.length < 28) {
      return this.#fail("bad_block", at, `section header block is ${b.length} bytes, below 28`);
    }
    const major = u16(b, 12, this.#le);
    if (major !== 1) {
      return this.#fail(
        "unsupported_version",
        at,
        `pcapng version ${major}.${u16(b, 14, this.#le)}`,
      );
    }
    this.#section++;
    this.#sectionBase = this.#interfaces.length;
    return undefined;
  }

  #interfaceDescription(b: Uint8Array, at: number): null | undefined {
    const le = this.#le;
    if (b.length < 20) {
      return this.#fail("bad_block", at, `interface description is ${b.length} bytes, below 20`);
    }
    if (this.#interfaces.length >= this.#maxInterfaces) {
      return this.#fail(
        "too_many_interfaces",
        at,
        `more than ${this.#maxInterfaces} interface descriptions`,
      );
    }
    let tsresol = 6;
    let tsoffset = 0;
    let name = "";
    const end = b.length - 4;
    for (let o = 16; o + 4 <= end;) {
      const code = u16(b, o, le);
      const olen = u16(b, o + 2, le);
      if (code === OPT_ENDOFOPT) break;
      const v = o + 4;
      if (v + olen > end) {
        this.#warn("bad_options", at, `option ${code} of length ${olen} overruns the block`);
        break;
      }
      if (code === OPT_IF_TSRESOL && olen >= 1) tsresol = b[v]!;
      else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        tsoffset = le
          ? i32(b, v + 4, le) * 4294967296 + u32(b, v, le)
          : i32(b, v, le) * 4294967296 + u32(b, v + 4, le);
      } else if (code === OPT_IF_NAME) {
        const n = Math.min(olen, MAX_INTERFACE_NAME_BYTES);
        name = utf8.decode(b.subarray(v, v + n)).replace(/\0+$/, "");
      }
      o = v + pad4(olen);
    }
    this.#interfaces.push({
      id: this.#interfaces.length,
      section: this.#section,
      localId: this.#interfaces.length - this.#sectionBase,
      linkType: u16(b, 8, le),
      snaplen: u32(b, 12, le),
      tsresol,
      tsoffset,
      name,
    });
    return undefined;
  }

  #lookup(localId: number, at: number, kind: string): CaptureInterface | undefined {
    const ifc = this.#interfaces[this.#sectionBase + localId];
    if (ifc !== undefined) return ifc;
    const known = this.#interfaces.length - this.#sectionBase;
    return this.#warn(
      "unknown_interface",
      at,
      `${kind} names interface ${localId}, but the section describes ${known}; skipped`,
    );
  }

  #packetBlock(b: Uint8Array, type: number, at: number): CaptureRecord | undefined {
    const le = this.#le;
    const kind = type === PCAPNG_EPB ? "enhanced packet block" : "packet block";
    if (b.length < 32) return this.#warn("bad_block", at, `${kind} is ${b.length} bytes; skipped`);
    const caplen = u32(b, 20, le);
    if (28 + caplen > b.length - 4) {
      return this.#warn(
        "bad_caplen",
        at,
        `captured length ${caplen} overruns the ${kind}; skipped`,
      );
    }
    if (caplen > this.#maxCaplen) {
      return this.#warn(
        "caplen_too_large",
        at,
        `captured length ${caplen} exceeds the limit of ${this.#maxCaplen}; skipped`,
      );
    }
    const ifc = this.#lookup(type === PCAPNG_EPB ? u32(b, 8, le) : u16(b, 8, le), at, kind);
    if (ifc === undefined) return undefined;
    splitTicks(u32(b, 12, le), u32(b, 16, le), ifc.tsresol);
    let direction: CaptureDirection = DIRECTION_UNKNOWN;
    const end = b.length - 4;
    for (let o = 28 + pad4(caplen); o + 4 <= end;) {
      const code = u16(b, o, le);
      const olen = u16(b, o + 2, le);
      if (code === OPT_ENDOFOPT) break;
      if (o + 4 + olen > end) {
        this.#warn("bad_options", at, `option ${code} of length ${olen} overruns the ${kind}`);
        break;
      }
      if (code === OPT_EPB_FLAGS && olen === 4) {
        const d = u32(b, o + 4, le) & 3;
        direction = d === 3 ? DIRECTION_UNKNOWN : d as CaptureDirection;
      }
      o += 4 + pad4(olen);
    }
    const data = b.subarray(28, 28 + caplen);
    const seconds = ticks.seconds + ifc.tsoffset;
    return this.#record(data, u32(b, 24, le), ifc, seconds, ticks.nanoseconds, direction, at);
  }

  #simplePacket(b: Uint8Array, at: number): CaptureRecord | undefined {
    if (b.length < 16) {
      return this.#warn("bad_block", at, `simple packet block is ${b.length} bytes; skipped`);
    }
    const ifc = this.#lookup(0, at, "simple packet block");
    if (ifc === undefined) return undefined;
    const originalLength = u32(b, 8, this.#le);
    let caplen = Math.min(originalLength, b.length - 16);
    if (ifc.snaplen > 0) caplen = Math.min(caplen, ifc.snaplen);
    if (caplen > this.#maxCaplen) {
      return this.#warn(
        "caplen_too_large",
        at,
        `captured length ${caplen} exceeds the limit of ${this.#maxCaplen}; skipped`,
      );
    }
    // A simple packet block has no timestamp: reported as 0, as Wireshark does.
    const data = b.subarray(12, 12 + caplen);
    return this.#record(data, originalLength, ifc, 0, 0, DIRECTION_UNKNOWN, at);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function checkLimit(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new RangeError(
      `Cannot create capture parser: ${name} must be a positive integer, got ${v}`,
    );
  }
  return v;
}
