/**
 * Reading and writing HTTP/1.1 messages on a `TcpConn`: a reader that
 * feeds the llhttp parser and hands out its events one message at a time,
 * body streams with limits, and message writing with the framing chosen
 * from the body (Content-Length when it is short and ends soon, chunked
 * otherwise: RFC 9112 §6, §7.1). Shared by `serve` and `fetch`.
 *
 * @module
 */
import type { TcpConn } from "../sockets/types.ts";
import { type HttpParser, type ParseError, type ParserEvent } from "./llhttp.ts";

/** Bytes read from the connection at a time. */
export const READ_SIZE = 65536;
/** A body that ends within this many bytes is sent with Content-Length. */
export const BUFFER_LIMIT = 65536;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** What {@linkcode MessageReader.next} returns. */
export type ReadEvent =
  | ParserEvent
  | { readonly kind: "eof" }
  | { readonly kind: "error"; readonly error: ParseError };

/**
 * Reads one HTTP message after another from a connection. Not reentrant:
 * one `next()` at a time (a second one while the first waits is refused).
 *
 * @example
 * ```ts ignore
 * const reader = new MessageReader(conn, new HttpParser("response", limits));
 * const ev = await reader.next(); // { kind: "head", head }
 * ```
 */
export class MessageReader {
  readonly #conn: TcpConn;
  readonly parser: HttpParser;
  readonly #buf = new Uint8Array(READ_SIZE);
  #rest: Uint8Array = EMPTY;
  #events: ParserEvent[] = [];
  #paused = false;
  #eof = false;
  #failed: ParseError | undefined;
  #busy = false;
  /** Bytes fed since the last message ended: none means EOF came between messages. */
  #fed = 0;
  /** Bytes of response or request received so far (for reuse decisions: did anything come?). */
  received = 0;

  /** Reads from `conn` through `parser` (which it frees in {@linkcode close}). */
  constructor(conn: TcpConn, parser: HttpParser) {
    this.#conn = conn;
    this.parser = parser;
  }

  /** Whether a `next()` is waiting. */
  get busy(): boolean {
    return this.#busy;
  }

  /** The next event; throws what the connection's read throws (reset, closed). */
  async next(): Promise<ReadEvent> {
    if (this.#busy) throw new Error("Cannot read: another read is in progress");
    this.#busy = true;
    try {
      for (;;) {
        const ev = this.#events.shift();
        if (ev !== undefined) return ev;
        if (this.#failed !== undefined) return { kind: "error", error: this.#failed };
        if (this.#paused) throw new Error("Cannot read: the message ended (resume first)");
        let chunk: Uint8Array;
        if (this.#rest.length > 0) {
          chunk = this.#rest;
          this.#rest = EMPTY;
        } else if (this.#eof) {
          if (this.#fed === 0) return { kind: "eof" };
          const err = this.parser.finish();
          this.#events.push(...this.parser.take());
          if (err !== undefined) this.#failed = err;
          this.#fed = 0;
          if (this.#events.length > 0 || err !== undefined) continue;
          return { kind: "eof" };
        } else {
          const n = await this.#conn.read(this.#buf);
          if (n === null) {
            this.#eof = true;
            continue;
          }
          this.received += n;
          chunk = this.#buf.subarray(0, n);
        }
        this.#fed += chunk.length;
        const r = this.parser.feed(chunk);
        this.#events.push(...this.parser.take());
        if (r.paused) {
          this.#paused = true;
          // copy: the read buffer is reused; this belongs to the next message
          this.#rest = chunk.slice(r.consumed);
        }
        if (r.error !== undefined) this.#failed = r.error;
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Starts on the next message (after an `end` event). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#fed = 0;
    this.parser.resume();
  }

  /** Whether bytes of a next message are already here. */
  get hasBuffered(): boolean {
    return this.#rest.length > 0;
  }

  /** Frees the parser. */
  close(): void {
    this.parser.free();
  }
}

/**
 * Watches writes that wait on the peer: `start` before each one, `done`
 * after (a server arms its stall timer in between, so a peer that stops
 * reading is closed, while a body that is slow to produce is not).
 */
export interface WriteWatch {
  start(): void;
  done(): void;
}

/** Writes all of `p`, however the connection splits it. */
export async function writeAll(conn: TcpConn, p: Uint8Array, watch?: WriteWatch): Promise<void> {
  let off = 0;
  while (off < p.length) {
    watch?.start();
    try {
      off += await conn.write(p.subarray(off));
    } finally {
      watch?.done();
    }
  }
}

/** How a body goes on the wire. */
export type Framing =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly bytes: Uint8Array }
  | {
    readonly kind: "chunked";
    readonly first: Uint8Array;
    readonly reader: ReadableStreamDefaultReader<Uint8Array>;
    /** A read already asked for, whose chunk comes after `first`. */
    readonly pending?: Promise<ReadableStreamReadResult<Uint8Array>>;
  };

/**
 * Reads the start of `body`: if it ends within {@linkcode BUFFER_LIMIT}
 * bytes the message gets a Content-Length, else it is sent chunked.
 * Throws a `TypeError` for a chunk that is not a `Uint8Array`.
 */
export async function frameBody(body: ReadableStream<Uint8Array> | null): Promise<Framing> {
  if (body === null) return { kind: "none" };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    // Only what the body has at hand: a stream that waits (events, a slow
    // producer) goes chunked now rather than holding the head back.
    const read = reader.read();
    const r = await Promise.race([read, microtasks(SOON_TURNS)]);
    if (r === NOT_YET) {
      return { kind: "chunked", first: concat(parts, size), reader, pending: read };
    }
    if (r.done) {
      reader.releaseLock();
      return { kind: "length", bytes: concat(parts, size) };
    }
    if (!(r.value instanceof Uint8Array)) {
      reader.cancel().catch(() => {});
      throw new TypeError("Cannot send body: a chunk is not a Uint8Array");
    }
    parts.push(r.value);
    size += r.value.length;
    if (size > BUFFER_LIMIT) return { kind: "chunked", first: concat(parts, size), reader };
  }
}

/** Microtask turns a body's read may take and still count as "at hand". */
const SOON_TURNS = 16;
const NOT_YET: unique symbol = Symbol("not yet");

/** Resolves after `n` microtask turns (deterministic: no timer). */
async function microtasks(n: number): Promise<typeof NOT_YET> {
  for (let i = 0; i < n; i++) await undefined;
  return NOT_YET;
}

/** `parts` in one array. */
export function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** One chunk of a chunked body: size in hex, CRLF, data, CRLF (RFC 9112 §7.1). */
function chunkOf(data: Uint8Array): Uint8Array {
  const size = encoder.encode(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(size.length + data.length + 2);
  out.set(size);
  out.set(data, size.length);
  out.set([13, 10], size.length + data.length);
  return out;
}

const LAST_CHUNK = encoder.encode("0\r\n\r\n");
const GONE: unique symbol = Symbol("gone");

/**
 * Writes a head and its body. `head` is the start line and fields without
 * framing fields or the empty line; the framing fields are added here.
 * `sendBody` false (HEAD, 204, 304) still announces the length when known.
 * With `emptyLength` a body-less message says `Content-Length: 0`.
 */
export async function writeMessage(
  conn: TcpConn,
  head: string,
  framing: Framing,
  how: {
    readonly sendBody: boolean;
    readonly emptyLength: boolean;
    /** Settles when the peer is gone: a streamed body stops being read. */
    readonly gone?: Promise<unknown>;
    /**
     * A streamed body goes raw and ends with the connection (an HTTP/1.0
     * peer: no Transfer-Encoding for it, RFC 9112 §6.1); the caller closes.
     */
    readonly closeDelimited?: boolean;
    /** Told about every write (see {@linkcode WriteWatch}). */
    readonly watch?: WriteWatch;
  },
): Promise<void> {
  const w = how.watch;
  const raw = how.closeDelimited === true;
  const chunk = raw ? (data: Uint8Array) => data : chunkOf;
  let h = head;
  if (framing.kind === "length") h += `Content-Length: ${framing.bytes.length}\r\n`;
  else if (framing.kind === "chunked" && !raw) h += "Transfer-Encoding: chunked\r\n";
  else if (framing.kind === "none" && how.emptyLength) h += "Content-Length: 0\r\n";
  const headBytes = encoder.encode(h + "\r\n");
  if (!how.sendBody || framing.kind === "none") {
    if (framing.kind === "chunked") framing.reader.cancel().catch(() => {});
    return writeAll(conn, headBytes, w);
  }
  if (framing.kind === "length") {
    // One write for a short message: one segment on the wire when it fits.
    return writeAll(
      conn,
      concat([headBytes, framing.bytes], headBytes.length + framing.bytes.length),
      w,
    );
  }
  // A chunk of size 0 would end the body (RFC 9112 §7.1): never send an empty one early.
  const first = framing.first.length > 0 ? chunk(framing.first) : EMPTY;
  await writeAll(conn, concat([headBytes, first], headBytes.length + first.length), w);
  let pending = framing.pending;
  try {
    for (;;) {
      const read = pending ?? framing.reader.read();
      pending = undefined;
      const r = how.gone === undefined
        ? await read
        : await Promise.race([read, how.gone.then(() => GONE)]);
      if (typeof r === "symbol") {
        throw new Deno.errors.ConnectionReset("Cannot send body: the peer is gone");
      }
      if (r.done) break;
      if (!(r.value instanceof Uint8Array)) {
        throw new TypeError("Cannot send body: a chunk is not a Uint8Array");
      }
      if (r.value.length > 0) await writeAll(conn, chunk(r.value), w);
    }
  } catch (e) {
    framing.reader.cancel(e).catch(() => {});
    throw e;
  }
  if (!raw) await writeAll(conn, LAST_CHUNK, w);
}

/** Field names a message's framing owns: never copied from user headers. */
export const FRAMING_FIELDS: ReadonlySet<string> = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
]);

/** `headers` as field lines, framing fields left out; throws on CR/LF (Headers forbids them anyway). */
export function fieldLines(headers: Headers, skip: ReadonlySet<string>): string {
  let out = "";
  for (const [name, value] of headers) {
    if (skip.has(name)) continue;
    out += `${name}: ${value}\r\n`;
  }
  return out;
}
