/**
 * Reading pcap and pcapng captures: {@linkcode parseCapture} for bytes in
 * memory, {@linkcode CaptureReaderSync} and {@linkcode CaptureReader} to
 * stream a file (or any chunk source) in bounded memory. All three share
 * {@linkcode CaptureParser} and its contract: bad data never throws; it ends
 * the capture with an `error` or, for a bad block of sane length, becomes a
 * warning.
 *
 * @module
 */
import { CaptureParser } from "./capture_parser.ts";
import type { CaptureFormat } from "./format.ts";
import type {
  CaptureFormatError,
  CaptureInterface,
  CaptureReaderOptions,
  CaptureRecord,
} from "./types.ts";

export { CaptureParser } from "./capture_parser.ts";
export { CaptureFormatError } from "./types.ts";
export type {
  CaptureErrorCode,
  CaptureInterface,
  CaptureReaderOptions,
  CaptureRecord,
} from "./types.ts";

/**
 * Default size of each read from a file source (64 KiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_CHUNK_SIZE } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_CHUNK_SIZE, 65536);
 * ```
 */
export const DEFAULT_CHUNK_SIZE = 65536;

/**
 * Where a {@linkcode CaptureReaderSync} gets bytes: a whole buffer, an
 * iterable of chunks, or anything with `readSync` (a `Deno.FsFile`).
 * Chunks are kept by reference or copied (see `CaptureParser.append`): an
 * iterable must not reuse its buffers.
 *
 * @example
 * ```ts
 * import { type CaptureSourceSync, CaptureReaderSync, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const file = new PcapWriter({ linkType: 1 }).bytes();
 * const source: CaptureSourceSync = [file.subarray(0, 10), file.subarray(10)];
 * const reader = new CaptureReaderSync(source);
 * assert.equal(reader.next(), null);
 * assert.equal(reader.format, "pcap");
 * ```
 */
export type CaptureSourceSync =
  | Uint8Array
  | Iterable<Uint8Array>
  | { readSync(p: Uint8Array): number | null };

/**
 * Where a {@linkcode CaptureReader} gets bytes: anything a
 * {@linkcode CaptureSourceSync} may be, an async iterable of chunks (a
 * `ReadableStream<Uint8Array>`, `file.readable`), or anything with an async
 * `read` (a `Deno.FsFile`, a `Deno.Conn`).
 *
 * @example
 * ```ts
 * import { type CaptureSource, CaptureReader, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const source: CaptureSource = ReadableStream.from([new PcapWriter({ linkType: 1 }).bytes()]);
 * const reader = new CaptureReader(source);
 * assert.equal(await reader.next(), null);
 * assert.equal(reader.error, null);
 * ```
 */
export type CaptureSource =
  | CaptureSourceSync
  | AsyncIterable<Uint8Array>
  | { read(p: Uint8Array): Promise<number | null> };

/**
 * Options of the streaming readers.
 *
 * @example
 * ```ts
 * import { type CaptureStreamOptions, CaptureReaderSync } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const options: CaptureStreamOptions = { chunkSize: 1 << 20, maxCaplen: 65535 };
 * const reader = new CaptureReaderSync(new Uint8Array(0), options);
 * assert.equal(reader.next(), null);
 * assert.equal(reader.error?.code, "truncated"); // an empty file has no header
 * ```
 */
export interface CaptureStreamOptions extends CaptureReaderOptions {
  /** Bytes per read from a `read`/`readSync` source (default {@linkcode DEFAULT_CHUNK_SIZE}). */
  readonly chunkSize?: number;
}

/**
 * What {@linkcode parseCapture} found.
 *
 * @example
 * ```ts
 * import { type CaptureParseResult, parseCapture, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const result: CaptureParseResult = parseCapture(new PcapWriter({ linkType: 1 }).bytes());
 * assert.equal(result.format, "pcap");
 * assert.equal(result.records.length, 0);
 * assert.equal(result.error, null);
 * ```
 */
export interface CaptureParseResult {
  /** The records read before the end or the fatal error. */
  readonly records: CaptureRecord[];
  /** The fatal error that stopped reading, or `null` for a clean end. */
  readonly error: CaptureFormatError | null;
  /** Non-fatal problems (blocks skipped). */
  readonly warnings: readonly CaptureFormatError[];
  /** The container format, or `null` if the file header could not be read. */
  readonly format: CaptureFormat | null;
  /** The interfaces described in the file. */
  readonly interfaces: readonly CaptureInterface[];
}

/**
 * Parses a whole capture in memory. Never throws on bad data: whatever could
 * be read comes back in `records`, and `error` says why reading stopped.
 * Record data are views into `bytes` (no copy).
 *
 * @param bytes The file contents.
 * @param options Limits and the warning callback.
 * @returns The records, the fatal error if any, and the warnings.
 *
 * @example
 * ```ts
 * import { parseCapture, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * w.write({ timestamp: 1_700_000_000_123_456, data: new Uint8Array([0xff, 0xee]) });
 * const file = w.bytes();
 * const { records, error } = parseCapture(file);
 * assert.equal(error, null);
 * assert.equal(records[0]!.timestamp, 1_700_000_000_123_456);
 * // A truncated file gives what it holds and an error with the offset.
 * const cut = parseCapture(file.subarray(0, file.length - 1));
 * assert.equal(cut.records.length, 0);
 * assert.equal(cut.error?.code, "truncated");
 * assert.equal(cut.error?.offset, 24);
 * ```
 */
export function parseCapture(
  bytes: Uint8Array,
  options: CaptureReaderOptions = {},
): CaptureParseResult {
  const p = new CaptureParser(options);
  p.push(bytes);
  p.end();
  const records: CaptureRecord[] = [];
  for (let r = p.next(); r !== null; r = p.next()) records.push(r);
  return {
    records,
    error: p.error,
    warnings: p.warnings,
    format: p.format,
    interfaces: p.interfaces,
  };
}

/**
 * What {@linkcode CaptureReaderSync} and {@linkcode CaptureReader} share: the
 * parser, what it found so far, and one step of their reading loops. Not
 * made directly: read through one of the two.
 *
 * @example
 * ```ts
 * import { CaptureReaderBase, CaptureReaderSync, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * w.write({ timestamp: 0, data: new Uint8Array([7]) });
 * const reader: CaptureReaderBase = new CaptureReaderSync([w.bytes()]);
 * assert.equal(reader.count, 0);
 * ```
 */
export abstract class CaptureReaderBase {
  readonly #parser: CaptureParser;

  /** A reader whose parser takes `options` (limits and warning callback). */
  constructor(options: CaptureStreamOptions) {
    this.#parser = new CaptureParser(options);
  }

  /**
   * The next record the parser has; `null` when the capture is over (the
   * reader closes), `undefined` when it needs input ({@linkcode feed}).
   */
  protected step(): CaptureRecord | null | undefined {
    const r = this.#parser.next();
    if (r !== null) return r;
    return this.#parser.needsInput ? undefined : null;
  }

  /** Gives the parser the next chunk of the source, `null` at its end. */
  protected feed(chunk: Uint8Array | null): void {
    if (chunk === null) this.#parser.end();
    else this.#parser.append(chunk);
  }

  /** The fatal error that ended the capture, or `null`. */
  get error(): CaptureFormatError | null {
    return this.#parser.error;
  }
  /** Non-fatal problems so far. */
  get warnings(): readonly CaptureFormatError[] {
    return this.#parser.warnings;
  }
  /** The container format, once known. */
  get format(): CaptureFormat | null {
    return this.#parser.format;
  }
  /** Interfaces described so far. */
  get interfaces(): readonly CaptureInterface[] {
    return this.#parser.interfaces;
  }
  /** Records returned so far. */
  get count(): number {
    return this.#parser.count;
  }
  /**
   * Bytes of input the reader keeps alive (see
   * {@linkcode CaptureParser.bufferedBytes}): at most twice the largest block plus
   * about 128 KiB, whatever the chunking of the source.
   */
  get bufferedBytes(): number {
    return this.#parser.bufferedBytes;
  }
}

/**
 * Streams a capture from a synchronous source in bounded memory: whatever
 * the chunking (even 1-byte reads), what is buffered stays below twice the
 * largest block plus about 128 KiB ({@linkcode bufferedBytes}), apart from
 * record data the caller keeps. A capture describing more than
 * `maxInterfaces` interfaces ends with a `too_many_interfaces` error.
 * `next()` returns records until `null`; then {@linkcode error} tells a clean
 * end from a corrupt or truncated file. I/O errors of the source propagate.
 *
 * @example
 * ```ts
 * import { CaptureReaderSync, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * for (let i = 0; i < 3; i++) w.write({ timestamp: i, data: new Uint8Array([i]) });
 * const file = w.bytes();
 * // Feed it in 5-byte chunks, as a file read would.
 * const chunks = [];
 * for (let i = 0; i < file.length; i += 5) chunks.push(file.slice(i, i + 5));
 * const reader = new CaptureReaderSync(chunks);
 * assert.deepEqual([...reader].map((r) => r.data[0]), [0, 1, 2]);
 * assert.equal(reader.error, null);
 * ```
 */
export class CaptureReaderSync extends CaptureReaderBase implements Iterable<CaptureRecord> {
  readonly #pull: () => Uint8Array | null;
  #onDone: (() => void) | null;
  #closed = false;

  /**
   * Creates a reader; nothing is read until {@linkcode next}.
   *
   * @param source The bytes, chunks, or a file.
   * @param options Limits, warning callback and read size.
   */
  constructor(source: CaptureSourceSync, options: CaptureStreamOptions = {}) {
    super(options);
    this.#pull = syncPuller(source, chunkSize(options));
    this.#onDone = null;
  }

  /**
   * Opens the file at `path` and reads it; the reader closes the file at the
   * end of the capture or on {@linkcode close}.
   */
  static open(path: string | URL, options: CaptureStreamOptions = {}): CaptureReaderSync {
    const file = Deno.openSync(path, { read: true });
    const reader = new CaptureReaderSync(file, options);
    reader.#onDone = () => file.close();
    return reader;
  }

  /** The next record, or `null` at the end (clean or not: see {@linkcode error}). */
  next(): CaptureRecord | null {
    if (this.#closed) return null;
    for (;;) {
      const r = this.step();
      if (r === null) this.close();
      if (r !== undefined) return r;
      this.feed(this.#pull());
    }
  }

  /** Stops reading (and closes the file opened by {@linkcode open}). */
  close(): void {
    this.#closed = true;
    const done = this.#onDone;
    this.#onDone = null;
    done?.();
  }

  /** Iterates over the remaining records. */
  *[Symbol.iterator](): Iterator<CaptureRecord> {
    for (let r = this.next(); r !== null; r = this.next()) yield r;
  }
}

/**
 * Streams a capture from an asynchronous source (a file, a stream) in
 * bounded memory. Same contract as {@linkcode CaptureReaderSync}; also an
 * async iterable. Breaking out of a `for await` loop closes the reader.
 *
 * @example
 * ```ts
 * import { CaptureReader, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const w = new PcapWriter({ linkType: 1 });
 * w.write({ timestamp: 7, data: new Uint8Array([7]) });
 * const stream = ReadableStream.from([w.bytes()]);
 * const reader = new CaptureReader(stream);
 * const times = [];
 * for await (const rec of reader) times.push(rec.timestamp);
 * assert.deepEqual(times, [7]);
 * assert.equal(reader.error, null);
 * ```
 */
export class CaptureReader extends CaptureReaderBase implements AsyncIterable<CaptureRecord> {
  readonly #pull: () => Promise<Uint8Array | null>;
  #cancel: (() => Promise<void>) | null;
  #closed = false;

  /**
   * Creates a reader; nothing is read until {@linkcode next}.
   *
   * @param source The bytes, chunks, a stream or a file.
   * @param options Limits, warning callback and read size.
   */
  constructor(source: CaptureSource, options: CaptureStreamOptions = {}) {
    super(options);
    const [pull, cancel] = asyncPuller(source, chunkSize(options));
    this.#pull = pull;
    this.#cancel = cancel;
  }

  /**
   * Opens the file at `path` and reads it; the reader closes the file at the
   * end of the capture or on {@linkcode close}.
   */
  static async open(
    path: string | URL,
    options: CaptureStreamOptions = {},
  ): Promise<CaptureReader> {
    const file = await Deno.open(path, { read: true });
    const reader = new CaptureReader(file, options);
    reader.#cancel = () => Promise.resolve(file.close());
    return reader;
  }

  /** The next record, or `null` at the end (clean or not: see {@linkcode error}). */
  async next(): Promise<CaptureRecord | null> {
    if (this.#closed) return null;
    for (;;) {
      const r = this.step();
      if (r === null) await this.close();
      if (r !== undefined) return r;
      this.feed(await this.#pull());
    }
  }

  /** Stops reading: cancels a stream source, closes a file opened by {@linkcode open}. */
  async close(): Promise<void> {
    this.#closed = true;
    const cancel = this.#cancel;
    this.#cancel = null;
    await cancel?.();
  }

  /** Iterates over the remaining records. */
  async *[Symbol.asyncIterator](): AsyncIterator<CaptureRecord> {
    try {
      for (let r = await this.next(); r !== null; r = await this.next()) yield r;
    } finally {
      await this.close();
    }
  }
}

function chunkSize(options: CaptureStreamOptions): number {
  const n = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new RangeError(
      `Cannot create capture reader: chunkSize must be a positive integer, got ${n}`,
    );
  }
  return n;
}

function syncPuller(source: CaptureSourceSync, size: number): () => Uint8Array | null {
  if (source instanceof Uint8Array) {
    let bytes: Uint8Array | null = source;
    return function pullBytes() {
      const b = bytes;
      bytes = null;
      return b;
    };
  }
  if ("readSync" in source && typeof source.readSync === "function") {
    const file = source;
    const reads = new ReadBuffer(size);
    return function pullFile() {
      const buf = reads.buffer();
      return reads.take(file.readSync(buf));
    };
  }
  const it = (source as Iterable<Uint8Array>)[Symbol.iterator]();
  return function pullIterable() {
    const r = it.next();
    return r.done ? null : r.value;
  };
}

/**
 * The buffer a `read`/`readSync` source reads into (issue 16: a fresh 64 KiB
 * buffer per read, pinned by a 1-byte result, took a reader to 961 MiB). A
 * read that fills at least half of it hands the buffer over (records are
 * views into it) and the next read gets a new one; a shorter read hands over
 * an exact copy and the buffer is reused. So each read allocates at most
 * twice the bytes it returned, plus one buffer for the whole stream.
 */
class ReadBuffer {
  readonly #size: number;
  #buf: Uint8Array | null = null;
  /** Bytes allocated for reads so far (buffers and copies). */
  allocated = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /** The buffer to read into next. */
  buffer(): Uint8Array {
    if (this.#buf === null) {
      this.#buf = new Uint8Array(this.#size);
      this.allocated += this.#size;
    }
    return this.#buf;
  }

  /** What the read of `n` bytes (`null` at the end) gives the parser. */
  take(n: number | null): Uint8Array | null {
    const buf = this.#buf!;
    if (n === null) return null;
    if (n * 2 >= buf.length) {
      this.#buf = null; // handed over: records will view it
      return buf.subarray(0, n);
    }
    this.allocated += n;
    return buf.slice(0, n); // copy: the buffer is reused for the next read
  }
}

function asyncPuller(
  source: CaptureSource,
  size: number,
): [() => Promise<Uint8Array | null>, (() => Promise<void>) | null] {
  if (source instanceof Uint8Array || "readSync" in source && !("read" in source)) {
    const pull = syncPuller(source as CaptureSourceSync, size);
    return [() => Promise.resolve(pull()), null];
  }
  if ("read" in source && typeof source.read === "function") {
    const file = source as { read(p: Uint8Array): Promise<number | null> };
    const reads = new ReadBuffer(size);
    return [async function pullFile() {
      const buf = reads.buffer();
      return reads.take(await file.read(buf));
    }, null];
  }
  if (Symbol.asyncIterator in source) {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return [async function pullStream() {
      const r = await it.next();
      return r.done ? null : r.value;
    }, async function cancelStream() {
      await it.return?.();
    }];
  }
  const pull = syncPuller(source as Iterable<Uint8Array>, size);
  return [() => Promise.resolve(pull()), null];
}
