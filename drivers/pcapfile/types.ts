/**
 * Records, interfaces, options and the error type shared by the capture
 * readers.
 *
 * @module
 */
import type { CaptureDirection } from "./format.ts";

/**
 * One captured packet.
 *
 * `data` is a view into the reader's input and is never overwritten by the
 * reader: it stays valid for as long as the caller keeps it (so a replay
 * driver may hand it to `PacketPool.copyOf` at its leisure).
 *
 * @example
 * ```ts
 * import { type CaptureRecord, parseCapture, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 101 });
 * w.write({ timestamp: 1_500_000, data: new Uint8Array(10), originalLength: 60 });
 * const rec: CaptureRecord = parseCapture(w.bytes()).records[0]!;
 * assert.equal(rec.index, 1);
 * assert.equal(rec.seconds, 1);
 * assert.equal(rec.nanoseconds, 500_000_000);
 * assert.equal(rec.data.length, 10); // captured bytes
 * assert.equal(rec.originalLength, 60); // length on the wire
 * assert.equal(rec.linkType, 101);
 * assert.equal(rec.fileOffset, 24); // just after the pcap file header
 * ```
 */
export interface CaptureRecord {
  /** Packet number, 1-based, counting the records returned (as tshark's frame.number). */
  readonly index: number;
  /** Microseconds since the Unix epoch (an integer, rounded down). */
  readonly timestamp: number;
  /** Whole seconds since the Unix epoch (pcapng `if_tsoffset` applied). */
  readonly seconds: number;
  /** Nanoseconds within the second, 0..999 999 999 (exact to the file's resolution). */
  readonly nanoseconds: number;
  /** LINKTYPE_* of the interface; unknown values are passed through. */
  readonly linkType: number;
  /** The captured bytes (`caplen` of them). */
  readonly data: Uint8Array;
  /** Length of the packet on the wire; more than `data.length` when truncated by snaplen. */
  readonly originalLength: number;
  /**
   * Index into the reader's `interfaces`: 0 for pcap; for pcapng counted
   * across all sections (tshark's `frame.interface_id` is the section-local
   * {@linkcode CaptureInterface.localId}).
   */
  readonly interfaceId: number;
  /** CaptureDirection from pcapng `epb_flags`, else {@linkcode DIRECTION_UNKNOWN} (0). */
  readonly direction: CaptureDirection;
  /** Byte offset in the file of the record header (pcap) or block (pcapng). */
  readonly fileOffset: number;
}

/**
 * An interface of a capture: the pcap file header, or a pcapng Interface
 * Description Block.
 *
 * @example
 * ```ts
 * import { parseCapture, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const { interfaces } = parseCapture(new PcapWriter({ linkType: 228 }).bytes());
 * assert.deepEqual(interfaces, [
 *   { id: 0, section: 0, localId: 0, linkType: 228, snaplen: 262144, tsresol: 6, tsoffset: 0, name: "" },
 * ]);
 * ```
 */
export interface CaptureInterface {
  /** Global id, as in {@linkcode CaptureRecord.interfaceId}. */
  readonly id: number;
  /** 0-based index of the pcapng section that describes it (0 for pcap). */
  readonly section: number;
  /** Id within its section, as packet blocks name it (and tshark's `frame.interface_id`). */
  readonly localId: number;
  /** LINKTYPE_* number. */
  readonly linkType: number;
  /** Snapshot length; 0 means "not set" (unlimited). */
  readonly snaplen: number;
  /** pcapng `if_tsresol` byte: 6 = microseconds (the default), 9 = nanoseconds, 0x80|n = 2^-n s. */
  readonly tsresol: number;
  /** pcapng `if_tsoffset`: seconds added to every timestamp. */
  readonly tsoffset: number;
  /** pcapng `if_name`, or "". */
  readonly name: string;
}

/**
 * Options of the capture parser and readers.
 *
 * @example
 * ```ts
 * import { type CaptureReaderOptions, CaptureParser } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const seen: string[] = [];
 * const options: CaptureReaderOptions = { maxCaplen: 65535, onWarning: (w) => seen.push(w.code) };
 * assert.ok(new CaptureParser(options));
 * ```
 */
export interface CaptureReaderOptions {
  /** Largest captured length accepted (default {@linkcode DEFAULT_MAX_CAPLEN}). */
  readonly maxCaplen?: number;
  /**
   * Largest pcapng block accepted (default {@linkcode DEFAULT_MAX_BLOCK_LENGTH},
   * at most {@linkcode MAX_BLOCK_LENGTH_LIMIT}).
   */
  readonly maxBlockLength?: number;
  /** Called for each non-fatal problem (a bad block skipped, bad options ignored). */
  readonly onWarning?: (warning: CaptureFormatError) => void;
  /** How many warnings to keep in `warnings` (default 100); all are counted. */
  readonly maxWarnings?: number;
  /**
   * Most interfaces a capture may describe, over all its sections (default
   * {@linkcode DEFAULT_MAX_INTERFACES}). One more Interface Description Block
   * ends the capture with a `too_many_interfaces` error, so an endless stream
   * of them cannot grow the interface list without bound.
   */
  readonly maxInterfaces?: number;
}

/**
 * Stable codes of {@linkcode CaptureFormatError}.
 *
 * Fatal (the capture ends): `bad_magic`, `unsupported_version`, `truncated`,
 * `bad_block_length`, `block_too_large`, `bad_byte_order`, `bad_block`
 * (a section header or interface description too short),
 * `caplen_too_large` in classic pcap, and `too_many_interfaces` (more
 * Interface Description Blocks than `maxInterfaces`).
 *
 * Warnings (the block is skipped or its options ignored, the file reads on):
 * `bad_block` (a packet block too short), `bad_caplen`, `caplen_too_large` in
 * pcapng, `unknown_interface`, `bad_options`, `bad_timestamp` (beyond what
 * integer microseconds hold exactly, about the year 2255).
 *
 * @example
 * ```ts
 * import { type CaptureErrorCode, parseCapture } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const code: CaptureErrorCode | undefined = parseCapture(new Uint8Array(3)).error?.code;
 * assert.equal(code, "truncated");
 * ```
 */
export type CaptureErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "truncated"
  | "bad_block_length"
  | "block_too_large"
  | "bad_byte_order"
  | "bad_block"
  | "bad_caplen"
  | "caplen_too_large"
  | "unknown_interface"
  | "bad_options"
  | "bad_timestamp"
  | "too_many_interfaces";

/**
 * A problem in a capture file, with the byte offset where it was found.
 * Readers *return* it (`error`, `warnings`, `onWarning`); they never throw it.
 *
 * @example
 * ```ts
 * import { CaptureFormatError, parseCapture } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const { records, error } = parseCapture(new TextEncoder().encode("not a capture"));
 * assert.equal(records.length, 0);
 * assert.ok(error instanceof CaptureFormatError);
 * assert.equal(error.code, "bad_magic");
 * assert.equal(error.offset, 0);
 * assert.equal(error.fatal, true);
 * assert.match(error.message, /^Cannot read capture at byte 0: unknown magic number/);
 * ```
 */
export class CaptureFormatError extends Error {
  /** Always "CaptureFormatError". */
  override readonly name = "CaptureFormatError";
  /** What went wrong. */
  readonly code: CaptureErrorCode;
  /** Byte offset in the file of the header or block at fault. */
  readonly offset: number;
  /** True if reading stopped here; false for a warning (the block was skipped). */
  readonly fatal: boolean;

  /** Creates the error; `message` should already name the offset. */
  constructor(
    message: string,
    options: { code: CaptureErrorCode; offset: number; fatal: boolean },
  ) {
    super(message);
    this.code = options.code;
    this.offset = options.offset;
    this.fatal = options.fatal;
  }
}
