/**
 * The protocol named by a start line, which llhttp does not tell its
 * embedder: it accepts `RTSP/1.0` (and `ICE/1.0` with `SOURCE`) where
 * `HTTP/1.0` belongs and reports version 1.0 either way. RFC 9112 §2.3
 * (HTTP-version is `HTTP/` DIGIT `.` DIGIT): anything else is not HTTP, so
 * the parser refuses it (400) before llhttp sees the line.
 *
 * The request line names its protocol last, the status line first
 * (RFC 9112 §3, §4). Empty lines before a start line are skipped, as llhttp
 * and RFC 9112 §2.2 do.
 *
 * @module
 */

/** Bytes kept from each end of the line: enough for `HTTP/1.1` and a CR. */
const KEEP = 16;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Scans the start line of one message at a time.
 *
 * @example A request line naming RTSP
 * ```ts
 * import { StartLineScanner } from "./_start_line.ts";
 * import assert from "node:assert/strict";
 * const s = new StartLineScanner("request");
 * assert.equal(s.scan(new TextEncoder().encode("OPTIONS * RTSP/1.0\r\n")), "RTSP/1.0");
 * s.reset();
 * assert.equal(s.scan(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n")), undefined);
 * ```
 */
export class StartLineScanner {
  readonly #request: boolean;
  /** The line's first bytes (a status line's protocol) and last bytes (a request line's). */
  #head = "";
  #tail = "";
  #started = false;
  #done = false;

  /** A scanner for request lines or status lines. */
  constructor(type: "request" | "response") {
    this.#request = type === "request";
  }

  /** Whether the start line has ended (nothing more to scan until {@linkcode reset}). */
  get done(): boolean {
    return this.#done;
  }

  /** The next message begins. */
  reset(): void {
    this.#head = "";
    this.#tail = "";
    this.#started = false;
    this.#done = false;
  }

  /**
   * Scans `bytes`, the next bytes of the message (borrowed). Returns the
   * protocol token when the line has ended and it is not `HTTP/…`, else
   * undefined (also while the line goes on).
   */
  scan(bytes: Uint8Array): string | undefined {
    if (this.#done) return undefined;
    let i = 0;
    if (!this.#started) {
      while (i < bytes.length && (bytes[i] === CR || bytes[i] === LF)) i++;
      if (i === bytes.length) return undefined;
      this.#started = true;
    }
    let end = bytes.indexOf(LF, i);
    const lineEnds = end >= 0;
    if (!lineEnds) end = bytes.length;
    if (this.#head.length < KEEP) {
      this.#head += latin1(bytes.subarray(i, Math.min(end, i + KEEP - this.#head.length)));
    }
    this.#tail = (this.#tail + latin1(bytes.subarray(Math.max(i, end - KEEP), end))).slice(-KEEP);
    if (!lineEnds) return undefined;
    this.#done = true;
    const line = this.#tail.endsWith("\r") ? this.#tail.slice(0, -1) : this.#tail;
    const protocol = this.#request
      ? line.slice(line.lastIndexOf(" ") + 1)
      : this.#head.split(" ", 1)[0]!;
    return protocol.startsWith("HTTP/") ? undefined : protocol;
  }
}

function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b);
}
