/**
 * Numbers of the pcap and pcapng file formats, shared by the reader and the
 * writers. Sources: the libpcap file format (draft-ietf-opsawg-pcap) and
 * pcapng (draft-ietf-opsawg-pcapng).
 *
 * @module
 */

/**
 * Classic pcap magic with microsecond timestamps (as read in the file's byte order).
 *
 * @example
 * ```ts
 * import { PCAP_MAGIC_MICRO, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const h = new PcapWriter({ linkType: 1 }).bytes();
 * assert.equal(new DataView(h.buffer).getUint32(0, true), PCAP_MAGIC_MICRO);
 * ```
 */
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
/**
 * Classic pcap magic with nanosecond timestamps (as read in the file's byte order).
 *
 * @example
 * ```ts
 * import { PCAP_MAGIC_NANO } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(PCAP_MAGIC_NANO, 0xa1b23c4d);
 * ```
 */
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/**
 * Length of the classic pcap file header.
 *
 * @example
 * ```ts
 * import { PCAP_FILE_HEADER_LEN, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new PcapWriter({ linkType: 1 }).bytes().length, PCAP_FILE_HEADER_LEN);
 * ```
 */
export const PCAP_FILE_HEADER_LEN = 24;
/**
 * Length of a classic pcap record header.
 *
 * @example
 * ```ts
 * import { PCAP_FILE_HEADER_LEN, PCAP_RECORD_HEADER_LEN, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * w.write({ timestamp: 0, data: new Uint8Array(4) });
 * assert.equal(w.byteLength, PCAP_FILE_HEADER_LEN + PCAP_RECORD_HEADER_LEN + 4);
 * ```
 */
export const PCAP_RECORD_HEADER_LEN = 16;

/**
 * pcapng Section Header Block type (a palindrome: same in both byte orders).
 *
 * @example
 * ```ts
 * import { PCAPNG_SHB, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const f = new PcapngWriter().bytes();
 * assert.equal(new DataView(f.buffer).getUint32(0, true), PCAPNG_SHB);
 * ```
 */
export const PCAPNG_SHB = 0x0a0d0d0a;
/**
 * pcapng Interface Description Block type.
 *
 * @example
 * ```ts
 * import { PCAPNG_IDB, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapngWriter();
 * const before = w.byteLength;
 * w.addInterface({ linkType: 1 });
 * assert.equal(new DataView(w.bytes().buffer).getUint32(before, true), PCAPNG_IDB);
 * ```
 */
export const PCAPNG_IDB = 0x00000001;
/**
 * pcapng (obsolete) Packet Block type.
 *
 * @example
 * ```ts
 * import { PCAPNG_PB } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(PCAPNG_PB, 2);
 * ```
 */
export const PCAPNG_PB = 0x00000002;
/**
 * pcapng Simple Packet Block type.
 *
 * @example
 * ```ts
 * import { PCAPNG_SPB } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(PCAPNG_SPB, 3);
 * ```
 */
export const PCAPNG_SPB = 0x00000003;
/**
 * pcapng Enhanced Packet Block type.
 *
 * @example
 * ```ts
 * import { PCAPNG_EPB, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapngWriter({ interfaces: [{ linkType: 1 }] });
 * const before = w.byteLength;
 * w.write({ timestamp: 0, data: new Uint8Array(1) });
 * assert.equal(new DataView(w.bytes().buffer).getUint32(before, true), PCAPNG_EPB);
 * ```
 */
export const PCAPNG_EPB = 0x00000006;
/**
 * pcapng byte-order magic in the Section Header Block.
 *
 * @example
 * ```ts
 * import { PCAPNG_BYTE_ORDER_MAGIC, PcapngWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const f = new PcapngWriter().bytes();
 * assert.equal(new DataView(f.buffer).getUint32(8, true), PCAPNG_BYTE_ORDER_MAGIC);
 * ```
 */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/**
 * Default cap on a packet's captured length: the usual snaplen of 262144
 * (tcpdump, Wireshark) plus a margin. Larger lengths are treated as corrupt.

 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_CAPLEN, DEFAULT_SNAPLEN } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.ok(DEFAULT_MAX_CAPLEN > DEFAULT_SNAPLEN);
 * ``` */
export const DEFAULT_MAX_CAPLEN: number = 262144 + 65536;
/**
 * Snaplen the writers put in file headers and interface descriptions.
 *
 * @example
 * ```ts
 * import { DEFAULT_SNAPLEN, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new PcapWriter({ linkType: 1 }).snaplen, DEFAULT_SNAPLEN);
 * ```
 */
export const DEFAULT_SNAPLEN = 262144;
/**
 * Default cap on a pcapng block's total length (16 MiB, as Wireshark).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_BLOCK_LENGTH } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_MAX_BLOCK_LENGTH, 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_BLOCK_LENGTH: number = 16 * 1024 * 1024;
/**
 * The largest `maxBlockLength` a reader accepts as an option (256 MiB).
 *
 * @example
 * ```ts
 * import { CaptureParser, MAX_BLOCK_LENGTH_LIMIT } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => new CaptureParser({ maxBlockLength: MAX_BLOCK_LENGTH_LIMIT + 4 }), RangeError);
 * ```
 */
export const MAX_BLOCK_LENGTH_LIMIT: number = 256 * 1024 * 1024;

/**
 * Packet direction unknown (pcapng `epb_flags` bits 0-1 = 0).
 *
 * @example
 * ```ts
 * import { DIRECTION_UNKNOWN, PcapngWriter, parseCapture } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapngWriter({ interfaces: [{ linkType: 1 }] });
 * w.write({ timestamp: 0, data: new Uint8Array(1) });
 * assert.equal(parseCapture(w.bytes()).records[0]!.direction, DIRECTION_UNKNOWN);
 * ```
 */
export const DIRECTION_UNKNOWN = 0;
/**
 * Packet was received (pcapng `epb_flags` bits 0-1 = 1).
 *
 * @example
 * ```ts
 * import { DIRECTION_INBOUND, PcapngWriter, parseCapture } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapngWriter({ interfaces: [{ linkType: 1 }] });
 * w.write({ timestamp: 0, data: new Uint8Array(1), direction: DIRECTION_INBOUND });
 * assert.equal(parseCapture(w.bytes()).records[0]!.direction, DIRECTION_INBOUND);
 * ```
 */
export const DIRECTION_INBOUND = 1;
/**
 * Packet was sent (pcapng `epb_flags` bits 0-1 = 2).
 *
 * @example
 * ```ts
 * import { DIRECTION_OUTBOUND, PcapngWriter, parseCapture } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapngWriter({ interfaces: [{ linkType: 1 }] });
 * w.write({ timestamp: 0, data: new Uint8Array(1), direction: DIRECTION_OUTBOUND });
 * assert.equal(parseCapture(w.bytes()).records[0]!.direction, DIRECTION_OUTBOUND);
 * ```
 */
export const DIRECTION_OUTBOUND = 2;

/**
 * The direction of a packet as stored in pcapng `epb_flags`:
 * {@linkcode DIRECTION_UNKNOWN}, {@linkcode DIRECTION_INBOUND} or
 * {@linkcode DIRECTION_OUTBOUND}.
 *
 * @example
 * ```ts
 * import { DIRECTION_OUTBOUND, type CaptureDirection } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const d: CaptureDirection = DIRECTION_OUTBOUND;
 * assert.equal(d, 2);
 * ```
 */
export type CaptureDirection = 0 | 1 | 2;

/**
 * The container format of a capture file.
 *
 * @example
 * ```ts
 * import { type CaptureFormat, PcapngWriter, parseCapture } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const f: CaptureFormat | null = parseCapture(new PcapngWriter().bytes()).format;
 * assert.equal(f, "pcapng");
 * ```
 */
export type CaptureFormat = "pcap" | "pcapng";

/**
 * Default most interfaces a pcapng capture may describe (all sections
 * together); see `CaptureReaderOptions.maxInterfaces`. Real captures have a
 * handful; each costs about 200 bytes (names are cut at
 * {@linkcode MAX_INTERFACE_NAME_BYTES}).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_INTERFACES } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_MAX_INTERFACES, 4096);
 * ```
 */
export const DEFAULT_MAX_INTERFACES = 4096;

/**
 * Longest `if_name` kept, in bytes (longer names are cut).
 *
 * @example
 * ```ts
 * import { MAX_INTERFACE_NAME_BYTES } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(MAX_INTERFACE_NAME_BYTES, 256);
 * ```
 */
export const MAX_INTERFACE_NAME_BYTES = 256;
