/**
 * One HTTP/1.1 connection (RFC 9112): read a bounded request head, answer
 * it, and go on with the next request on the same connection while both
 * sides want it kept alive; pipelined requests are answered in order.
 * An idle connection (no complete head within the keep-alive timeout, on
 * the stack clock) is closed. Requests that carry a body get their answer
 * and then the connection is closed, since no resource here takes a body
 * (RFC 9112 §9.6 allows closing instead of reading it).
 *
 * @module
 */
import type { TcpConn } from "../../../mod.ts";
import { close, type ServiceHost, writeAll } from "../_service.ts";
import {
  earlyReject,
  findHeadEnd,
  type HttpParseError,
  type HttpRequest,
  MAX_HEAD_BYTES,
  parseRequestHead,
  skipEmptyLines,
} from "./parse.ts";

/** A response to send. */
export interface HttpResponse {
  /** Status code. */
  readonly status: number;
  /** Fields besides those the server adds (Server, Date, Content-Length, Connection). */
  readonly fields: readonly (readonly [string, string])[];
  /** The body (sent for GET, not for HEAD; its length is the Content-Length either way). */
  readonly body: Uint8Array;
}

/** How {@linkcode serveHttp} behaves and reports. */
export interface HttpServerConfig {
  /** Close a connection idle this long, µs. */
  readonly keepAliveTimeout: number;
  /** Requests answered on one connection before it is closed. */
  readonly maxRequests: number;
  /** Answers a request. */
  route(req: HttpRequest): HttpResponse;
  /** The `Date` field's value now, or undefined without a clock (RFC 9110 §6.6.1). */
  date(): string | undefined;
  /** Called for each request head received (parsed or not). */
  onRequest(): void;
  /** Called for each response with its status. */
  onResponse(status: number): void;
  /** Called when an idle connection is closed by the timeout. */
  onTimeout(): void;
}

/** Reason phrases of the statuses we send. */
export const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
  505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();

/**
 * A plain-text response (`text/plain; charset=utf-8`).
 *
 * @example
 * ```ts
 * import { textResponse } from "./server.ts";
 * import assert from "node:assert/strict";
 * const r = textResponse(404, "Not Found\n");
 * assert.equal(r.body.length, 10);
 * ```
 */
export function textResponse(
  status: number,
  text: string,
  fields: readonly (readonly [string, string])[] = [],
): HttpResponse {
  return {
    status,
    fields: [["Content-Type", "text/plain; charset=utf-8"], ...fields],
    body: encoder.encode(text),
  };
}

/**
 * The bytes of a response: status line, fields, Content-Length, body
 * (omitted for HEAD). Always `HTTP/1.1` (RFC 9110 §2.5).
 *
 * @example
 * ```ts
 * import { encodeResponse, textResponse } from "./server.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeResponse(textResponse(200, "hi"), { head: true, keepAlive: false, minor: 1 });
 * const text = new TextDecoder().decode(bytes);
 * assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
 * assert.match(text, /\r\nContent-Length: 2\r\n/);
 * assert.match(text, /\r\nConnection: close\r\n\r\n$/);
 * ```
 */
export function encodeResponse(
  res: HttpResponse,
  how: { head: boolean; keepAlive: boolean; minor: number; date?: string },
): Uint8Array {
  let h = `HTTP/1.1 ${res.status} ${REASONS[res.status] ?? "Unknown"}\r\nServer: deno-netstack\r\n`;
  if (how.date !== undefined) h += `Date: ${how.date}\r\n`;
  for (const [n, v] of res.fields) h += `${n}: ${v}\r\n`;
  h += `Content-Length: ${res.body.length}\r\n`;
  // RFC 9112 §9.3/§9.6: say "close" when we will; a 1.0 client needs "keep-alive" to stay.
  if (!how.keepAlive) h += "Connection: close\r\n";
  else if (how.minor === 0) h += "Connection: keep-alive\r\n";
  h += "\r\n";
  const head = encoder.encode(h);
  if (how.head || res.body.length === 0) return head;
  const out = new Uint8Array(head.length + res.body.length);
  out.set(head);
  out.set(res.body, head.length);
  return out;
}

/** Result of waiting for a head. */
type HeadWait =
  | { readonly kind: "head"; readonly end: number }
  | { readonly kind: "error"; readonly error: HttpParseError }
  | { readonly kind: "eof" }
  | { readonly kind: "timeout" };

/** Serves HTTP on `conn` until either side closes it; `host` supplies deadlines and the graceful close. */
export async function serveHttp(
  conn: TcpConn,
  host: ServiceHost,
  cfg: HttpServerConfig,
): Promise<void> {
  const buf = new Uint8Array(MAX_HEAD_BYTES);
  let len = 0;
  for (let served = 0;;) {
    const wait = await readHead();
    if (wait.kind === "timeout") {
      cfg.onTimeout();
      return; // the timer closed the connection
    }
    if (wait.kind === "eof") break;
    cfg.onRequest();
    let req: HttpRequest | HttpParseError;
    let end = 0;
    if (wait.kind === "error") req = wait.error;
    else {
      end = wait.end;
      req = parseRequestHead(buf.subarray(0, end));
    }
    if (!("method" in req)) {
      // Garbage: answer once, then close (we cannot find the next request).
      await send(textResponse(req.status, `${REASONS[req.status]}: ${req.reason}\n`), {
        head: false,
        keepAlive: false,
        minor: 1,
      });
      break;
    }
    served++;
    const keepAlive = req.keepAlive && served < cfg.maxRequests && req.contentLength === 0 &&
      !req.chunked;
    await send(cfg.route(req), { head: req.method === "HEAD", keepAlive, minor: req.minor });
    buf.copyWithin(0, end, len);
    len -= end;
    if (!keepAlive) break;
  }
  await host.finish(conn);

  async function send(
    res: HttpResponse,
    how: { head: boolean; keepAlive: boolean; minor: number },
  ): Promise<void> {
    const date = cfg.date();
    cfg.onResponse(res.status);
    await writeAll(conn, encodeResponse(res, date === undefined ? how : { ...how, date }));
  }

  /** Reads until a whole head is buffered, the head is refused, EOF, or the idle timeout. */
  async function readHead(): Promise<HeadWait> {
    let timedOut = false;
    const timer = host.deadline(cfg.keepAliveTimeout, () => {
      timedOut = true;
      close(conn);
    });
    try {
      let scanned = 0;
      for (;;) {
        const skip = skipEmptyLines(buf, len);
        if (skip > 0) {
          buf.copyWithin(0, skip, len);
          len -= skip;
          scanned = 0;
        }
        const end = findHeadEnd(buf, len, scanned - 2);
        if (end >= 0) return { kind: "head", end };
        const early = earlyReject(buf, len);
        if (early !== undefined) return { kind: "error", error: early };
        if (len === buf.length) {
          return {
            kind: "error",
            error: { status: 431, reason: `the request head is over ${MAX_HEAD_BYTES} bytes` },
          };
        }
        scanned = len;
        const n = await conn.read(buf.subarray(len));
        if (n === null) return { kind: "eof" };
        len += n;
      }
    } catch (e) {
      if (timedOut) return { kind: "timeout" };
      throw e;
    } finally {
      host.cancel(timer);
    }
  }
}
