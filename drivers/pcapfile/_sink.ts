/**
 * Where the capture writers put their bytes: memory, a function, or a file.
 *
 * @module
 */

/**
 * Where a capture writer sends its bytes: a function given each chunk (it may
 * keep it: every chunk is a fresh buffer), or anything with `writeSync` (a
 * `Deno.FsFile`).
 *
 * @example
 * ```ts
 * import { type CaptureSink, PcapWriter } from "./mod.ts";
 * import assert from "node:assert/strict";
 * let total = 0;
 * const sink: CaptureSink = (chunk) => void (total += chunk.length);
 * new PcapWriter({ linkType: 1, sink }).write({ timestamp: 0, data: new Uint8Array(8) });
 * assert.equal(total, 24 + 16 + 8);
 * ```
 */
export type CaptureSink =
  | ((chunk: Uint8Array) => void)
  | { writeSync(p: Uint8Array): number };

/** @internal Collects chunks in memory or forwards them to a sink, with optional batching. */
export class ByteSink {
  readonly #chunks: Uint8Array[] = [];
  readonly #emit: ((chunk: Uint8Array) => void) | null;
  readonly #batch: number;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes written so far, including pending ones. */
  byteLength = 0;

  constructor(sink: CaptureSink | undefined, batch: number) {
    if (sink === undefined) this.#emit = null;
    else if (typeof sink === "function") this.#emit = sink;
    else {
      const file = sink;
      this.#emit = function writeAll(chunk: Uint8Array): void {
        for (let off = 0; off < chunk.length;) off += file.writeSync(chunk.subarray(off));
      };
    }
    this.#batch = batch;
  }

  /** True when there is no sink (bytes are kept in memory). */
  get inMemory(): boolean {
    return this.#emit === null;
  }

  /** Takes ownership of `chunk`. */
  push(chunk: Uint8Array): void {
    this.byteLength += chunk.length;
    if (this.#emit === null) {
      this.#chunks.push(chunk);
      return;
    }
    if (this.#batch <= 0) {
      this.#emit(chunk);
      return;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= this.#batch) this.flush();
  }

  /** Sends batched bytes to the sink. */
  flush(): void {
    if (this.#emit === null || this.#pendingBytes === 0) return;
    const out = concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#emit(out);
  }

  /** Everything written so far (in-memory mode). */
  bytes(): Uint8Array {
    if (this.#chunks.length !== 1) {
      const all = concat(this.#chunks, this.byteLength);
      this.#chunks.length = 0;
      this.#chunks.push(all);
    }
    return this.#chunks[0]!;
  }
}

/**
 * @internal What {@linkcode PcapWriter} and {@linkcode PcapngWriter} share: a
 * {@linkcode ByteSink}, the packet count, the file {@linkcode openFile}
 * opened, and `bytes`, `flush` and `close`.
 */
export abstract class SinkWriter {
  readonly #sink: ByteSink;
  readonly #format: string;
  #count = 0;
  #onClose: (() => void) | null = null;

  /** `format` names the writer in errors ("pcap", "pcapng"); `batch` is a checked `bufferSize`. */
  protected constructor(format: string, sink: CaptureSink | undefined, batch: number) {
    this.#format = format;
    this.#sink = new ByteSink(sink, batch);
  }

  /**
   * Creates (or truncates) the file at `path`, makes the writer on it with
   * `make`, and has {@linkcode close} close the file.
   */
  protected static openFile<W extends SinkWriter>(
    path: string | URL,
    make: (file: Deno.FsFile) => W,
  ): W {
    const file = Deno.openSync(path, { write: true, create: true, truncate: true });
    try {
      const w = make(file);
      w.#onClose = () => file.close();
      return w;
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** Writes a header or block that is not a packet (takes ownership of `chunk`). */
  protected push(chunk: Uint8Array): void {
    this.#sink.push(chunk);
  }

  /** Writes one packet's record (takes ownership of `chunk`) and counts it. */
  protected pushPacket(chunk: Uint8Array): void {
    this.#sink.push(chunk);
    this.#count++;
  }

  /** Number of packets written. */
  get count(): number {
    return this.#count;
  }
  /** Bytes written so far (headers included). */
  get byteLength(): number {
    return this.#sink.byteLength;
  }

  /**
   * The file so far, when there is no sink.
   *
   * @throws {TypeError} If the writer has a sink.
   */
  bytes(): Uint8Array {
    if (!this.#sink.inMemory) {
      throw new TypeError(`Cannot get bytes: the ${this.#format} writer has a sink`);
    }
    return this.#sink.bytes();
  }

  /** Sends batched bytes to the sink. */
  flush(): void {
    this.#sink.flush();
  }

  /** Flushes, and closes the file opened by `create`. */
  close(): void {
    this.#sink.flush();
    const done = this.#onClose;
    this.#onClose = null;
    done?.();
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
