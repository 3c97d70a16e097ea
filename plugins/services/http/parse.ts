/**
 * HTTP/1.1 request heads (RFC 9112 §2-§6), parsed with bounds: find where
 * the head ends, reject garbage early (before the limit is reached), then
 * parse the request line and header fields into an {@linkcode HttpRequest}
 * or an {@linkcode HttpParseError} naming the status code to answer with.
 *
 * Leniency, as RFC 9112 allows: empty lines before the request line are
 * skipped (§2.2), and a bare LF ends a line as well as CR LF (§2.2). Strict
 * where it matters for framing and smuggling: whitespace before a field's
 * colon (§5.1), obsolete line folding (§5.2), a bare CR, control characters
 * in values, conflicting `Content-Length`s (§6.3), `Transfer-Encoding` in
 * HTTP/1.0 or together with `Content-Length` (§6.1), and an HTTP/1.1 request
 * without exactly one `Host` (§3.2) are all 400.
 *
 * @module
 */

/** Most bytes in a request head, request line included (larger: 431, or 414 for the line). */
export const MAX_HEAD_BYTES = 16384;
/** Most header fields in one request (more: 431). */
export const MAX_HEADER_FIELDS = 100;
/** Longest method name we wait for before calling the request garbage. */
const MAX_METHOD = 32;

/** A parsed request head. */
export interface HttpRequest {
  /** The method, case-sensitive (RFC 9110 §9.1): `GET`, `HEAD`, … */
  readonly method: string;
  /** The request target as sent: `/counters.json?x=1`, `http://host/`, `*`. */
  readonly target: string;
  /** The path of an origin-form or absolute-form target (`/` for `*`), without the query. */
  readonly path: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1 (higher minors are treated as 1.1). */
  readonly minor: number;
  /** Header fields in order, names lowercased. */
  readonly fields: readonly (readonly [string, string])[];
  /** The body length from `Content-Length` (0 without one). */
  readonly contentLength: number;
  /** Whether a `Transfer-Encoding` says a body follows whose length we do not know. */
  readonly chunked: boolean;
  /** Whether the client wants the connection kept open after the response (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
}

/** Why a request head was refused, and with which status. */
export interface HttpParseError {
  /** 400, 414, 431 or 505. */
  readonly status: number;
  /** For the log and the response body. */
  readonly reason: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
const FIELD = /^([^:]*):(.*)$/;
// deno-lint-ignore no-control-regex -- RFC 9110 §5.5: no CTLs but HTAB in field values
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d+$/;

function isTokenByte(b: number): boolean {
  // RFC 9110 §5.6.2 tchar.
  if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) {
    return true;
  }
  return "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b));
}

/**
 * Where the head in `buf[0..len)` ends: the index just past the empty line
 * (CR LF CR LF, or LF LF, or a mix), or -1 when it has not arrived yet.
 * Leading empty lines must have been skipped (see {@linkcode skipEmptyLines}).
 *
 * @param buf The bytes received.
 * @param len How many of them are valid.
 * @param from Where to resume scanning (a previous call's `len`, less 3).
 * @returns The head's length, or -1.
 *
 * @example
 * ```ts
 * import { findHeadEnd } from "./parse.ts";
 * import assert from "node:assert/strict";
 * const b = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\nnext");
 * assert.equal(findHeadEnd(b, b.length), b.length - 4);
 * assert.equal(findHeadEnd(b, 20), -1);
 * ```
 */
export function findHeadEnd(buf: Uint8Array, len: number, from = 0): number {
  for (let i = Math.max(0, from); i < len; i++) {
    if (buf[i] !== 10) continue;
    if (i + 1 < len && buf[i + 1] === 10) return i + 2;
    if (i + 2 < len && buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

/**
 * How many bytes of CR and LF start `buf[0..len)` (RFC 9112 §2.2: a server
 * SHOULD ignore at least one empty line before the request line).
 *
 * @example
 * ```ts
 * import { skipEmptyLines } from "./parse.ts";
 * import assert from "node:assert/strict";
 * assert.equal(skipEmptyLines(new TextEncoder().encode("\r\n\r\nGET"), 7), 4);
 * ```
 */
export function skipEmptyLines(buf: Uint8Array, len: number): number {
  let i = 0;
  while (i < len && (buf[i] === 13 || buf[i] === 10)) i++;
  return i;
}

/**
 * Whether the start of a head that has not ended yet already cannot be a
 * request (so we answer 400 now instead of waiting for 16 KiB): a method
 * with a byte outside `tchar`, an over-long method, or a control or
 * non-ASCII byte in the request line. Returns the error, or undefined.
 *
 * @param buf The bytes received (leading empty lines skipped).
 * @param len How many are valid.
 *
 * @example
 * ```ts
 * import { earlyReject } from "./parse.ts";
 * import assert from "node:assert/strict";
 * const tls = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00]);
 * assert.equal(earlyReject(tls, tls.length)?.status, 400);
 * const partial = new TextEncoder().encode("GET /ind");
 * assert.equal(earlyReject(partial, partial.length), undefined);
 * ```
 */
export function earlyReject(buf: Uint8Array, len: number): HttpParseError | undefined {
  let i = 0;
  for (; i < len && buf[i] !== 0x20; i++) {
    if (buf[i] === 13 || buf[i] === 10 || !isTokenByte(buf[i]!)) {
      return { status: 400, reason: "the request does not start with a method" };
    }
  }
  if (i > MAX_METHOD) return { status: 400, reason: "the method is too long" };
  for (; i < len && buf[i] !== 10; i++) {
    const b = buf[i]!;
    if ((b < 0x20 && b !== 13) || b > 0x7e) {
      return { status: 400, reason: "a control or non-ASCII byte in the request line" };
    }
  }
  if (i >= len && len >= MAX_HEAD_BYTES) {
    return { status: 414, reason: `the request line is longer than ${MAX_HEAD_BYTES} bytes` };
  }
  return undefined;
}

function fail(status: number, reason: string): HttpParseError {
  return { status, reason };
}

/**
 * Parses a complete request head (request line, fields, the empty line).
 *
 * @param head The head's bytes, as {@linkcode findHeadEnd} delimited them.
 * @returns The request, or the error to answer with.
 *
 * @example
 * ```ts
 * import { parseRequestHead } from "./parse.ts";
 * import assert from "node:assert/strict";
 * const r = parseRequestHead(new TextEncoder().encode(
 *   "GET /counters.json?pretty HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n",
 * ));
 * assert.ok(!("status" in r));
 * assert.equal(r.path, "/counters.json");
 * assert.equal(r.keepAlive, false);
 * const bad = parseRequestHead(new TextEncoder().encode("GET / HTTP/1.1\r\nHost : x\r\n\r\n"));
 * assert.deepEqual("status" in bad && bad.status, 400);
 * ```
 */
export function parseRequestHead(head: Uint8Array): HttpRequest | HttpParseError {
  // Latin-1: one char per byte, so nothing is lost; fields are ASCII anyway.
  let text = "";
  for (let i = 0; i < head.length; i += 4096) {
    text += String.fromCharCode(...head.subarray(i, Math.min(head.length, i + 4096)));
  }
  const lines = text.split("\n");
  // The head ends with an empty line: drop it (and the split's trailing "").
  while (lines.length > 0 && (lines[lines.length - 1] === "" || lines[lines.length - 1] === "\r")) {
    lines.pop();
  }
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const body = l.endsWith("\r") ? l.slice(0, -1) : l;
    if (body.includes("\r")) return fail(400, "a bare CR in the request head");
    lines[i] = body;
  }
  const m = REQUEST_LINE.exec(lines[0] ?? "");
  if (m === null) return fail(400, "the request line is not METHOD SP TARGET SP HTTP/x.y");
  const [, method, target, major, minorText] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (!TOKEN.test(method)) return fail(400, "the method is not a token");
  if (!/^[\x21-\x7e]+$/.test(target)) return fail(400, "the request target has invalid bytes");
  if (major !== "1") return fail(505, `HTTP/${major}.${minorText} is not supported`);
  const minor = Number(minorText);
  const path = targetPath(target);
  if (path === undefined) return fail(400, "the request target is not a path or an http URL");
  if (lines.length - 1 > MAX_HEADER_FIELDS) {
    return fail(431, `more than ${MAX_HEADER_FIELDS} header fields`);
  }
  const fields: [string, string][] = [];
  let host = 0;
  let contentLength: string | undefined;
  let transferEncoding = false;
  let close = false;
  let keepAliveToken = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      return fail(400, "obsolete line folding (RFC 9112 §5.2)");
    }
    const f = FIELD.exec(line);
    if (f === null) return fail(400, "a header line without a colon");
    const name = f[1]!;
    if (!TOKEN.test(name)) {
      return fail(400, "a header name that is not a token (whitespace before the colon?)");
    }
    const value = f[2]!.replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) return fail(400, "a control character in a header value");
    const lower = name.toLowerCase();
    fields.push([lower, value]);
    if (lower === "host") host++;
    else if (lower === "content-length") {
      // RFC 9112 §6.3: a list of identical values may be taken as one; anything else is fatal.
      for (const v of value.split(",")) {
        const t = v.trim();
        if (!DIGITS.test(t)) return fail(400, "Content-Length is not a number");
        const n = t.replace(/^0+(?=\d)/, "");
        if (contentLength !== undefined && contentLength !== n) {
          return fail(400, "conflicting Content-Length values");
        }
        contentLength = n;
      }
    } else if (lower === "transfer-encoding") transferEncoding = true;
    else if (lower === "connection") {
      for (const tok of value.toLowerCase().split(",")) {
        const t = tok.trim();
        if (t === "close") close = true;
        else if (t === "keep-alive") keepAliveToken = true;
      }
    }
  }
  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive"; "close" wins.
  const keepAlive = !close && (minor >= 1 || keepAliveToken);
  if (minor >= 1 && host !== 1) return fail(400, "an HTTP/1.1 request needs exactly one Host");
  if (host > 1) return fail(400, "more than one Host");
  if (transferEncoding && minor === 0) return fail(400, "Transfer-Encoding in HTTP/1.0");
  if (transferEncoding && contentLength !== undefined) {
    return fail(400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.1)");
  }
  const cl = contentLength === undefined ? 0 : Number(contentLength);
  return {
    method,
    target,
    path,
    minor,
    fields,
    contentLength: Number.isSafeInteger(cl) ? cl : Number.MAX_SAFE_INTEGER,
    chunked: transferEncoding,
    keepAlive,
  };
}

/** The path of `target` (origin-form, absolute-form http(s) URL, or `*`), or undefined. */
function targetPath(target: string): string | undefined {
  let t = target;
  if (t === "*") return "*";
  const abs = /^https?:\/\/[^/?#]*/i.exec(t);
  if (abs !== null) t = t.slice(abs[0].length) || "/";
  if (!t.startsWith("/") && !t.startsWith("?")) return undefined;
  const q = t.search(/[?#]/);
  const path = q < 0 ? t : t.slice(0, q);
  return path === "" ? "/" : path;
}

/**
 * The value of header `name` (lowercase), or undefined; repeated fields are
 * joined with ", " (RFC 9110 §5.3).
 *
 * @example
 * ```ts
 * import { fieldValue } from "./parse.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fieldValue([["accept", "text/html"], ["accept", "*\/*"]], "accept"), "text/html, *\/*");
 * ```
 */
export function fieldValue(
  fields: readonly (readonly [string, string])[],
  name: string,
): string | undefined {
  let out: string | undefined;
  for (const [n, v] of fields) if (n === name) out = out === undefined ? v : `${out}, ${v}`;
  return out;
}

/**
 * The quality the `Accept` field gives `type` (`text/plain`): the q of the
 * most specific matching range (RFC 9110 §12.5.1), 1 when there is no
 * `Accept`, 0 when nothing matches.
 *
 * @example
 * ```ts
 * import { acceptQuality } from "./parse.ts";
 * import assert from "node:assert/strict";
 * const accept = "text/html;q=0.5, text/*;q=0.8, *\/*;q=0.1";
 * assert.equal(acceptQuality(accept, "text/html"), 0.5);
 * assert.equal(acceptQuality(accept, "text/plain"), 0.8);
 * assert.equal(acceptQuality(undefined, "text/plain"), 1);
 * ```
 */
export function acceptQuality(accept: string | undefined, type: string): number {
  if (accept === undefined || accept.trim() === "") return 1;
  const [major] = type.split("/");
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    let specificity: number;
    if (range === type) specificity = 2;
    else if (range === `${major}/*`) specificity = 1;
    else if (range === "*/*") specificity = 0;
    else continue;
    let quality = 1;
    for (const p of params) {
      const m = /^q=([01](\.\d{0,3})?)$/.exec(p);
      if (m) quality = Number(m[1]);
    }
    if (specificity > best) {
      best = specificity;
      q = quality;
    }
  }
  return q;
}
