/**
 * HTTP/1.1 message parsing through llhttp, Node.js's parser (maintained by
 * the Node.js project, fuzzed in OSS-Fuzz), as the WebAssembly build undici
 * ships: `npm:undici@8.12.4/lib/llhttp/llhttp-wasm.js`, pinned. The same
 * module parses requests (server side) and responses (client side).
 *
 * Why this one: llhttp is what Node's `http` and undici (Node's `fetch`)
 * parse with, so its framing decisions (Content-Length vs
 * Transfer-Encoding, chunk sizes and extensions, trailers, bare CR/LF,
 * obsolete folding: RFC 9112 §6, §7.1) are those of the most used server
 * in the ecosystem, strict by default (we turn no lenient flag on). The
 * npm `llhttp` package ships only the generator; `http-parser-js` is a
 * port of the retired `http_parser`, not fuzzed. The wasm module is
 * deterministic and synchronous, so it runs on virtual time.
 *
 * Written here by hand: the glue (callbacks into events), the limits
 * llhttp leaves to its embedder (head bytes → 431, or 414 for a long
 * target; field count → 431), and pausing at each message's end so
 * pipelined requests are taken one at a time. Two checks llhttp's wasm
 * build cannot make: chunk extensions over a byte limit → 413
 * (`_chunk_framing.ts`), and a start line naming another protocol than
 * HTTP (`RTSP/1.0`, `ICE/1.0`) → 400 (`_start_line.ts`).
 *
 * @module
 */
// deno-lint-ignore-file camelcase -- the wasm module's exports and imports are llhttp's C names
import LLHTTP_WASM from "npm:undici@8.12.4/lib/llhttp/llhttp-wasm.js";
import { ChunkFraming, DEFAULT_MAX_CHUNK_EXTENSION_BYTES } from "./_chunk_framing.ts";
import { StartLineScanner } from "./_start_line.ts";

/** llhttp's error codes we act on (llhttp `llhttp_errno_t`). */
const HPE_OK = 0;
const HPE_PAUSED = 21;
const HPE_PAUSED_UPGRADE = 22;
const HPE_USER = 24;
/** Parser types (`llhttp_type_t`). */
const TYPE_REQUEST = 1;
const TYPE_RESPONSE = 2;
/** Bytes copied into wasm memory per `llhttp_execute` call. */
const INPUT_SIZE = 65536;

interface LlhttpExports {
  readonly memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(p: number): void;
  llhttp_execute(p: number, data: number, len: number): number;
  llhttp_finish(p: number): number;
  llhttp_resume(p: number): void;
  llhttp_get_error_pos(p: number): number;
  llhttp_get_error_reason(p: number): number;
  llhttp_errno_name(errno: number): number;
  llhttp_get_method(p: number): number;
  llhttp_method_name(method: number): number;
  llhttp_get_http_major(p: number): number;
  llhttp_get_http_minor(p: number): number;
  llhttp_get_status_code(p: number): number;
}

/** Limits of one message head (the request or status line, fields, trailers). */
export interface HeadLimits {
  /** Most bytes of the start line and fields together (over: 431; a target alone: 414). */
  readonly maxHeadBytes: number;
  /** Most header fields (over: 431). */
  readonly maxFields: number;
  /** Most bytes of chunk extensions per message (default 16384, as Node.js; over: 413). */
  readonly maxChunkExtensionBytes?: number;
}

/** A parsed head: a request's or a response's. */
export interface MessageHead {
  /** The request method (`GET`), or "" in a response. */
  readonly method: string;
  /** The request target (`/a?b`), or "" in a response. */
  readonly target: string;
  /** The status code of a response, or 0 in a request. */
  readonly status: number;
  /** The reason phrase of a response. */
  readonly reason: string;
  /** HTTP major and minor version. */
  readonly version: readonly [number, number];
  /** Fields as received, in order (names as sent). */
  readonly fields: readonly (readonly [string, string])[];
  /** Whether the connection may carry another message after this one (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  /** Whether this is an upgrade or CONNECT (the connection is not HTTP after it). */
  readonly upgrade: boolean;
}

/** What the parser found, in order. Body bytes are copies the receiver owns. */
export type ParserEvent =
  | { readonly kind: "head"; readonly head: MessageHead }
  | { readonly kind: "body"; readonly bytes: Uint8Array<ArrayBuffer> }
  | { readonly kind: "end"; readonly trailers: readonly (readonly [string, string])[] };

/** Why parsing stopped: the status a server answers with, and a reason for logs. */
export interface ParseError {
  /** 400, 413 (chunk extensions; a body, set by the caller), 414 or 431. */
  readonly status: number;
  /** llhttp's reason or the limit that was crossed. */
  readonly reason: string;
}

/** The result of {@linkcode HttpParser.feed}. */
export interface FeedResult {
  /** Bytes taken; the rest belongs to the next message (call `resume()` first). */
  readonly consumed: number;
  /** Whether the parser stopped at the end of a message. */
  readonly paused: boolean;
  /** Set when the bytes are not HTTP/1.1; the connection cannot go on. */
  readonly error?: ParseError;
}

let wasm: LlhttpExports | undefined;
let inputPtr = 0;
/** The parser whose `llhttp_execute`/`llhttp_finish` is running (callbacks find it here). */
let current: HttpParser | undefined;

function exportsOf(): LlhttpExports {
  if (wasm !== undefined) return wasm;
  const module = new WebAssembly.Module(LLHTTP_WASM as Uint8Array<ArrayBuffer>);
  const instance = new WebAssembly.Instance(module, {
    env: {
      wasm_on_message_begin: () => current!.onMessageBegin(),
      wasm_on_url: (_p: number, at: number, len: number) => current!.onSpan("url", at, len),
      wasm_on_status: (_p: number, at: number, len: number) => current!.onSpan("status", at, len),
      wasm_on_header_field: (_p: number, at: number, len: number) =>
        current!.onSpan("field", at, len),
      wasm_on_header_value: (_p: number, at: number, len: number) =>
        current!.onSpan("value", at, len),
      wasm_on_headers_complete: (_p: number, status: number, upgrade: number, keep: number) =>
        current!.onHeadersComplete(status, upgrade === 1, keep === 1),
      wasm_on_body: (_p: number, at: number, len: number) => current!.onBody(at, len),
      wasm_on_message_complete: () => current!.onMessageComplete(),
    },
  });
  const e = instance.exports as unknown as LlhttpExports;
  inputPtr = e.malloc(INPUT_SIZE);
  wasm = e;
  return e;
}

/**
 * Bytes of wasm memory llhttp holds now (it grows, never shrinks): what a
 * test bounds after parsing hostile input.
 *
 * @example
 * ```ts
 * import { HttpParser, llhttpMemoryBytes } from "./llhttp.ts";
 * import assert from "node:assert/strict";
 * new HttpParser("request", { maxHeadBytes: 64, maxFields: 4 }).free();
 * assert.ok(llhttpMemoryBytes() > 0);
 * ```
 */
export function llhttpMemoryBytes(): number {
  return wasm === undefined ? 0 : wasm.memory.buffer.byteLength;
}

function cString(e: LlhttpExports, ptr: number): string {
  if (ptr === 0) return "";
  const mem = new Uint8Array(e.memory.buffer);
  let end = ptr;
  while (end < mem.length && mem[end] !== 0 && end - ptr < 256) end++;
  return latin1(mem.subarray(ptr, end));
}

/** Bytes to a string, one char per byte (field values may carry obs-text). */
function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  }
  return s;
}

/**
 * One llhttp parser (a request or a response parser) with limits; it
 * stops at the end of each message (see {@linkcode HttpParser.resume}).
 * Free it with {@linkcode HttpParser.free}: its state lives in wasm memory.
 *
 * @example Two pipelined requests, taken one at a time
 * ```ts
 * import { HttpParser } from "./llhttp.ts";
 * import assert from "node:assert/strict";
 * const p = new HttpParser("request", { maxHeadBytes: 1024, maxFields: 10 });
 * const bytes = new TextEncoder().encode(
 *   "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
 * );
 * const first = p.feed(bytes);
 * assert.equal(first.paused, true);
 * assert.deepEqual(p.take().map((e) => e.kind), ["head", "body", "end"]);
 * p.resume();
 * p.feed(bytes.subarray(first.consumed));
 * const [head] = p.take();
 * assert.equal(head?.kind === "head" && head.head.target, "/b");
 * p.free();
 * ```
 */
export class HttpParser {
  readonly #e: LlhttpExports;
  #ptr: number;
  readonly #limits: HeadLimits;
  #events: ParserEvent[] = [];
  // The head being assembled: llhttp may split any span across calls.
  #url = "";
  #status = "";
  #fields: [string, string][] = [];
  #field = "";
  #value = "";
  #inValue = false;
  #headBytes = 0;
  #inTrailers = false;
  #limitError: ParseError | undefined;
  /** No head since the last message ended (or ever): bytes count against maxHeadBytes. */
  #awaitingHead = true;
  /** Bytes fed while a head is awaited (all of them: line ends and padding too). */
  #rawHead = 0;
  /** Heads completed: tells whether one ended during an execute call. */
  #heads = 0;
  /** Set before a response's head arrives when it answers HEAD: no body follows (RFC 9110 §9.3.2). */
  skipBody = false;
  /** Chunk extension bytes, counted between data spans (llhttp gives no callback for them). */
  readonly #framing: ChunkFraming;
  /** Where the current call's last span ended: a head's end is at or just after it. */
  #spanEnd = 0;
  /** The start line's protocol, which llhttp does not report. */
  readonly #startLine: StartLineScanner;

  /**
   * A parser for requests or responses.
   *
   * @throws {RangeError} If a limit is not a positive whole number.
   */
  constructor(type: "request" | "response", limits: HeadLimits) {
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new RangeError(`Cannot create parser: ${k} must be a positive whole number`);
      }
    }
    this.#e = exportsOf();
    this.#limits = limits;
    this.#framing = new ChunkFraming(
      limits.maxChunkExtensionBytes ?? DEFAULT_MAX_CHUNK_EXTENSION_BYTES,
    );
    this.#startLine = new StartLineScanner(type);
    this.#ptr = this.#e.llhttp_alloc(type === "request" ? TYPE_REQUEST : TYPE_RESPONSE);
  }

  /**
   * Parses `bytes` (borrowed). Stops at the end of a message (`paused`),
   * or at an error. Events are collected for {@linkcode take}.
   */
  feed(bytes: Uint8Array): FeedResult {
    if (this.#ptr === 0) return { consumed: 0, paused: false, error: fail("parser freed") };
    const e = this.#e;
    let off = 0;
    while (off < bytes.length) {
      // While a head is awaited, feed no more than its limit allows: the
      // limit counts real bytes (line ends, padding, empty lines) too.
      const room = this.#awaitingHead ? this.#limits.maxHeadBytes + 1 - this.#rawHead : INPUT_SIZE;
      const n = Math.min(INPUT_SIZE, bytes.length - off, room);
      if (this.#awaitingHead && !this.#startLine.done) {
        const protocol = this.#startLine.scan(bytes.subarray(off, off + n));
        if (protocol !== undefined) {
          return {
            consumed: off,
            paused: false,
            error: fail(`the start line names ${protocol}, not HTTP`),
          };
        }
      }
      new Uint8Array(e.memory.buffer, inputPtr, n).set(bytes.subarray(off, off + n));
      const heads = this.#heads;
      this.#framing.callStarts(inputPtr);
      this.#spanEnd = inputPtr;
      current = this;
      let ret: number;
      try {
        ret = e.llhttp_execute(this.#ptr, inputPtr, n);
      } finally {
        current = undefined;
      }
      if (ret === HPE_OK && this.#awaitingHead) {
        // Bytes after a head that ended in this call are body, not head.
        this.#rawHead = heads === this.#heads ? this.#rawHead + n : 0;
        if (this.#rawHead > this.#limits.maxHeadBytes) {
          const inStartLine = this.#url !== "" && this.#fields.length === 0 &&
            this.#field === "" && !this.#inValue && !this.#inTrailers;
          return {
            consumed: off + n,
            paused: false,
            error: inStartLine
              ? {
                status: 414,
                reason: `the request target is over ${this.#limits.maxHeadBytes} bytes`,
              }
              : { status: 431, reason: `the head is over ${this.#limits.maxHeadBytes} bytes` },
          };
        }
      }
      if (ret === HPE_OK) {
        if (!this.#framing.callEnds(inputPtr + n)) {
          return { consumed: off + n, paused: false, error: this.#extensionError() };
        }
        off += n;
        continue;
      }
      const pos = e.llhttp_get_error_pos(this.#ptr);
      const at = off + (pos - inputPtr);
      if (ret === HPE_PAUSED && !this.#framing.messageEndsAt(pos)) {
        // The last chunk's extension crossed the limit: the message did not end well.
        if (this.#events.at(-1)?.kind === "end") this.#events.pop();
        return { consumed: at, paused: false, error: this.#extensionError() };
      }
      if (ret === HPE_PAUSED) return { consumed: at, paused: true };
      if (ret === HPE_PAUSED_UPGRADE) {
        // Not HTTP after this message: report the end, take nothing more.
        return { consumed: at, paused: true };
      }
      return { consumed: at, paused: false, error: this.#error(ret) };
    }
    return { consumed: off, paused: false };
  }

  /** The peer closed: completes a body that runs to the end of the connection, or fails. */
  finish(): ParseError | undefined {
    if (this.#ptr === 0) return undefined;
    current = this;
    let ret: number;
    try {
      ret = this.#e.llhttp_finish(this.#ptr);
    } finally {
      current = undefined;
    }
    if (ret === HPE_OK || ret === HPE_PAUSED) return undefined;
    return this.#error(ret);
  }

  /** Goes on after the end of a message. */
  resume(): void {
    if (this.#ptr !== 0) this.#e.llhttp_resume(this.#ptr);
  }

  /** The events found since the last call. */
  take(): ParserEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
  }

  /** Releases the parser's wasm memory; later calls do nothing. */
  free(): void {
    if (this.#ptr !== 0) this.#e.llhttp_free(this.#ptr);
    this.#ptr = 0;
  }

  #extensionError(): ParseError {
    return { status: 413, reason: `chunk extensions are over ${this.#framing.max} bytes` };
  }

  #error(ret: number): ParseError {
    if (ret === HPE_USER && this.#limitError !== undefined) return this.#limitError;
    const e = this.#e;
    const name = cString(e, e.llhttp_errno_name(ret));
    return fail(`${name}: ${cString(e, e.llhttp_get_error_reason(this.#ptr))}`);
  }

  // ---- callbacks (run inside llhttp_execute; return 0 to go on) -------------

  /** @internal */
  onMessageBegin(): number {
    this.#url = "";
    this.#status = "";
    this.#fields = [];
    this.#field = "";
    this.#value = "";
    this.#inValue = false;
    this.#headBytes = 0;
    this.#inTrailers = false;
    return 0;
  }

  /** @internal */
  onSpan(kind: "url" | "status" | "field" | "value", at: number, len: number): number {
    this.#headBytes += len;
    if (this.#headBytes > this.#limits.maxHeadBytes) {
      this.#limitError = kind === "url"
        ? { status: 414, reason: `the request target is over ${this.#limits.maxHeadBytes} bytes` }
        : { status: 431, reason: `the head is over ${this.#limits.maxHeadBytes} bytes` };
      return -1;
    }
    if (this.#inTrailers && !this.#framing.trailerAt(at)) {
      this.#limitError = this.#extensionError();
      return -1;
    }
    this.#spanEnd = at + len;
    const text = latin1(new Uint8Array(this.#e.memory.buffer, at, len));
    if (kind === "url") this.#url += text;
    else if (kind === "status") this.#status += text;
    else if (kind === "field") {
      if (this.#inValue) this.#pushField();
      if (this.#fields.length >= this.#limits.maxFields) {
        this.#limitError = { status: 431, reason: `over ${this.#limits.maxFields} fields` };
        return -1;
      }
      this.#field += text;
    } else {
      this.#inValue = true;
      this.#value += text;
    }
    return 0;
  }

  #pushField(): void {
    // RFC 9110 §5.5: leading and trailing whitespace is not part of the value.
    this.#fields.push([this.#field, this.#value.replace(/^[ \t]+|[ \t]+$/g, "")]);
    this.#field = "";
    this.#value = "";
    this.#inValue = false;
  }

  /** @internal */
  onHeadersComplete(status: number, upgrade: boolean, keepAlive: boolean): number {
    if (this.#inValue || this.#field !== "") this.#pushField();
    const e = this.#e;
    const isRequest = status === 0;
    this.#events.push({
      kind: "head",
      head: {
        method: isRequest ? cString(e, e.llhttp_method_name(e.llhttp_get_method(this.#ptr))) : "",
        target: this.#url,
        status,
        reason: this.#status,
        version: [e.llhttp_get_http_major(this.#ptr), e.llhttp_get_http_minor(this.#ptr)],
        fields: this.#fields,
        keepAlive,
        upgrade,
      },
    });
    this.#fields = [];
    this.#inTrailers = true;
    this.#headBytes = 0;
    this.#awaitingHead = false;
    this.#rawHead = 0;
    this.#heads++;
    this.#framing.headEnds(this.#spanEnd);
    // 1: no body follows (a response to HEAD); llhttp knows 1xx/204/304 itself.
    return this.skipBody && !isRequest ? 1 : 0;
  }

  /** @internal */
  onBody(at: number, len: number): number {
    if (!this.#framing.data(at, len)) {
      this.#limitError = this.#extensionError();
      return -1;
    }
    // copy: the wasm memory is reused by the next execute
    const bytes = new Uint8Array(this.#e.memory.buffer, at, len).slice();
    this.#events.push({ kind: "body", bytes });
    return 0;
  }

  /** @internal */
  onMessageComplete(): number {
    if (this.#inTrailers && (this.#inValue || this.#field !== "")) this.#pushField();
    this.#events.push({ kind: "end", trailers: this.#fields });
    this.#fields = [];
    this.#inTrailers = false;
    this.#awaitingHead = true;
    this.#rawHead = 0;
    this.#startLine.reset();
    return HPE_PAUSED;
  }
}

function fail(reason: string): ParseError {
  return { status: 400, reason };
}
