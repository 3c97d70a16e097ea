/**
 * A byte limit on chunk extensions (RFC 9112 §7.1.1) that llhttp, as
 * undici's wasm build, cannot enforce: that build reports no chunk header
 * or extension callback, so a peer could send megabytes of
 * `5;name=value…` and only the read timeout would end it. Node.js answers
 * 413 past 16 KiB of extensions per message (CVE-2024-22019); we do the
 * same by counting, in real bytes, what lies between one chunk's data and
 * the next (llhttp hands every data span with its address): the CRLF after
 * data, the chunk-size line and its CRLF. Of each such gap,
 * {@linkcode CHUNK_GAP_ALLOWANCE} bytes are size digits and line ends; the
 * rest is extension.
 *
 * Message bodies that are not chunked have no gaps (their data spans are
 * contiguous), so they are never refused here. Trailer fields are bounded
 * by the head limits instead: counting stops at the first one.
 *
 * @module
 */

/** Bytes of a gap that are not extension: CRLF, up to 16 hex digits, CRLF, with room to spare. */
export const CHUNK_GAP_ALLOWANCE = 24;

/** Extension bytes allowed per message by default (Node.js's limit). */
export const DEFAULT_MAX_CHUNK_EXTENSION_BYTES = 16384;

/**
 * Counts the gaps between a message's data spans. Addresses are positions
 * in the parser's input buffer during one `llhttp_execute` call
 * ({@linkcode ChunkFraming.callStarts} marks the buffer's start).
 *
 * @example A 5-byte chunk, then a chunk-size line with a long extension
 * ```ts
 * import { ChunkFraming } from "./_chunk_framing.ts";
 * import assert from "node:assert/strict";
 * const f = new ChunkFraming(100);
 * f.callStarts(0);
 * f.headEnds(0);
 * assert.equal(f.data(3, 5), true); // "5\r\n" then "hello"
 * assert.equal(f.callEnds(8 + 200), false); // "\r\n5;x=…" 200 bytes, no data yet
 * ```
 */
export class ChunkFraming {
  readonly #max: number;
  /** Between a head's end and the first trailer field or the message's end. */
  #on = false;
  /** Where the gap being counted starts in the current call's input. */
  #from = 0;
  /** Bytes of that gap counted in earlier calls. */
  #carried = 0;
  /** Extension bytes of this message in gaps already closed. */
  #extension = 0;

  /** Counts against `maxExtensionBytes` per message. */
  constructor(maxExtensionBytes: number) {
    this.#max = maxExtensionBytes;
  }

  /** The most extension bytes a message may carry. */
  get max(): number {
    return this.#max;
  }

  /** An execute call begins with its input at `start`. */
  callStarts(start: number): void {
    this.#from = start;
  }

  /** A head ended: `from` is where the last span of the head ended (or the call's start). */
  headEnds(from: number): void {
    this.#on = true;
    this.#from = from;
    this.#carried = 0;
    this.#extension = 0;
  }

  /** Data at `at`, `len` bytes: closes the gap before it. False when the limit is crossed. */
  data(at: number, len: number): boolean {
    if (!this.#on) return true;
    const ok = this.#close(at);
    this.#from = at + len;
    return ok;
  }

  /** A trailer field starts at `at`: the last gap closes, counting stops. False when over. */
  trailerAt(at: number): boolean {
    if (!this.#on) return true;
    const ok = this.#close(at);
    this.#on = false;
    return ok;
  }

  /** The message ended at `end` (llhttp's pause position). False when over. */
  messageEndsAt(end: number): boolean {
    if (!this.#on) return true;
    const ok = this.#close(end);
    this.#on = false;
    return ok;
  }

  /** An execute call took its input up to `end` with the message going on. False when over. */
  callEnds(end: number): boolean {
    if (!this.#on) return true;
    this.#carried += end - this.#from;
    this.#from = end;
    return this.#extension + Math.max(0, this.#carried - CHUNK_GAP_ALLOWANCE) <= this.#max;
  }

  /** Whether a message is being counted (its head ended, its end or trailers not yet seen). */
  get counting(): boolean {
    return this.#on;
  }

  #close(at: number): boolean {
    const gap = this.#carried + at - this.#from;
    this.#carried = 0;
    this.#extension += Math.max(0, gap - CHUNK_GAP_ALLOWANCE);
    return this.#extension <= this.#max;
  }
}
