/**
 * The pcapfile driver package: capture files in and out.
 *
 * - **Reading** pcap (both byte orders, microsecond and nanosecond magic) and
 *   pcapng (several sections of either byte order, several interfaces with
 *   their own link types and `if_tsresol`, Enhanced, Simple and obsolete
 *   Packet Blocks; other blocks skipped). {@linkcode parseCapture} parses a
 *   buffer; {@linkcode CaptureReaderSync} and {@linkcode CaptureReader} stream
 *   a file or a `ReadableStream` in bounded memory; {@linkcode CaptureParser}
 *   is the push/pull core they share.
 * - **Writing** classic pcap ({@linkcode PcapWriter}) and pcapng with several
 *   interfaces and packet directions ({@linkcode PcapngWriter}), to memory, a
 *   function or a file.
 * - **Tapping** a running driver: {@linkcode CaptureTap} records every frame
 *   a {@linkcode LinkDriver} receives and transmits.
 * - **Replaying** a capture into a stack on its virtual clock:
 *   {@linkcode replayCapture} through {@linkcode ReplayDriver}s.
 *
 * **Errors.** Bad data never throws. A corrupt or truncated file ends the
 * capture with a {@linkcode CaptureFormatError} (`error`) carrying a stable
 * `code` and the byte `offset`; a bad block whose length is sane is skipped
 * and reported as a warning (`warnings`, `onWarning`), and reading goes on.
 * Every length field is bounded (`maxCaplen`, `maxBlockLength`) so a corrupt
 * file cannot make the reader allocate without limit.
 *
 * **Not supported:** modified/Kuznetzov pcap (magic 0xa1b2cd34) and other
 * pcap variants; writing nanosecond or big-endian files; pcapng Name
 * Resolution, Interface Statistics, Decryption Secrets and custom blocks are
 * skipped on read, and packet options other than `epb_flags` are ignored.
 * Simple Packet Blocks carry no timestamp and read as time 0 (as in Wireshark).
 *
 * @example
 * ```ts
 * import { parseCapture, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * w.write({ timestamp: 1_000_000, data: new Uint8Array(42) });
 * const { records, error } = parseCapture(w.bytes());
 * assert.equal(error, null);
 * assert.equal(records.length, 1);
 * assert.equal(records[0]!.data.length, 42);
 * ```
 *
 * @module
 */
export * from "./format.ts";
export * from "./pcap_reader.ts";
export * from "./pcap_writer.ts";
export * from "./tap.ts";
export * from "./replay.ts";
