/**
 * `Stack.serve`: an HTTP/1.1 server shaped like `Deno.serve` over the
 * stack's TCP. Requests are parsed by llhttp (`llhttp.ts`); each connection
 * carries one request after another (keep-alive, RFC 9112 §9.3), pipelined
 * requests are answered in order (one handler at a time per connection),
 * bodies stream both ways (`Request.body`, `Response.body`) with
 * Content-Length or chunked framing, `Expect: 100-continue` is answered when
 * the handler starts reading the body (RFC 9110 §10.1.1), and limits answer
 * 431 (head), 414 (target), 413 (body), 400 (not HTTP/1.1). Shutdown is
 * graceful: idle connections close, requests in flight get their response
 * with `Connection: close`. Timeouts run on the stack's clock.
 *
 * Not supported: TLS, HTTP/2, upgrades (WebSocket) and CONNECT (answered,
 * then the connection is closed), `Date` (the stack has no wall clock:
 * RFC 9110 §6.6.1 says not to send one then).
 *
 * @module
 */
import type { NetAddr } from "../sockets/address.ts";
import type { TcpConn, TcpListener } from "../sockets/types.ts";
import { checkInteger, checkMillis } from "../validate.ts";
import {
  fieldLines,
  frameBody,
  type Framing,
  FRAMING_FIELDS,
  MessageReader,
  type ReadEvent,
  writeAll,
  writeMessage,
  type WriteWatch,
} from "./_io.ts";
import { HttpParser, type MessageHead, type ParseError } from "./llhttp.ts";
import type {
  HttpHost,
  HttpServer,
  HttpTimer,
  ServeHandler,
  ServeOptions,
  ServerClock,
} from "./types.ts";

const encoder = new TextEncoder();
const CONTINUE = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");
/** Bytes of an unread request body we read and drop to keep the connection. */
const MAX_DRAIN = 262144;

/** Reason phrases for the status line (RFC 9110 §15); others get "Unknown". */
const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

interface Config {
  readonly maxHeadBytes: number;
  readonly maxFields: number;
  readonly maxBody: number;
  readonly keepAlive: number;
  readonly maxRequests: number;
  readonly maxConnections: number;
}

function config(o: ServeOptions): Config {
  const act = "Cannot serve";
  return {
    maxHeadBytes: checkInteger(o.maxHeaderSize ?? 16384, 64, 1 << 24, act, "maxHeaderSize"),
    maxFields: checkInteger(o.maxHeaderCount ?? 100, 1, 10000, act, "maxHeaderCount"),
    maxBody: checkInteger(
      o.maxBodySize ?? 16 << 20,
      0,
      Number.MAX_SAFE_INTEGER,
      act,
      "maxBodySize",
    ),
    keepAlive: checkMillis(o.keepAliveTimeout ?? 5000, act, "keepAliveTimeout", 1),
    maxRequests: checkInteger(
      o.maxRequestsPerConnection ?? 1000,
      1,
      Number.MAX_SAFE_INTEGER,
      act,
      "maxRequestsPerConnection",
    ),
    maxConnections: checkInteger(o.maxConnections ?? 1024, 1, 1 << 20, act, "maxConnections"),
  };
}

/**
 * Reports of a {@linkcode createConnectionServer} beyond `Deno.serve`'s
 * (the status page counts them).
 *
 * @example
 * ```ts
 * import type { ServerHooks } from "./server.ts";
 * const statuses: number[] = [];
 * const hooks: ServerHooks = { onResponse: (s) => void statuses.push(s) };
 * ```
 */
export interface ServerHooks {
  /** Called with the status of every response sent, the server's own 400/413/431 included. */
  readonly onResponse?: (status: number) => void;
  /** Called when an idle (or stalled) connection is closed by the keep-alive timeout. */
  readonly onTimeout?: () => void;
}

/**
 * HTTP/1.1 on connections someone else accepts (a service plugin with its
 * own listener, limits and counters). {@linkcode serveHttp} is this plus a
 * listener.
 *
 * @example
 * ```ts ignore
 * const cs = createConnectionServer(host, {}, () => new Response("hi"));
 * for await (const conn of listener) void cs.serve(conn);
 * ```
 */
export interface ConnectionServer {
  /** Serves HTTP on `conn` until either side closes it. */
  serve(conn: TcpConn): Promise<void>;
  /** Takes no more requests: idle connections close now, busy ones after their response. */
  close(): void;
  /** Settles when no connection is being served. */
  whenIdle(): Promise<void>;
  /** Connections being served. */
  readonly active: number;
  /** Requests received. */
  readonly requests: number;
}

/** One connection's state, as shutdown sees it. */
interface ConnState {
  readonly conn: TcpConn;
  /** Waiting for the next request head (nothing in flight). */
  idle: boolean;
  /** The next event, read ahead while a response is sent (a pipelined head, or EOF). */
  ahead?: Promise<ReadEvent> | undefined;
  /** Closes the connection when the peer sends nothing for keepAliveTimeout (head or body). */
  timer?: HttpTimer;
  /** A response broke off mid-way: close with RST, not FIN. */
  reset?: boolean;
}

/**
 * Serves HTTP/1.1 on `host` (a stack). See `Stack.serve`.
 *
 * @throws {TypeError | RangeError} For bad options.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
 * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
 * const server = b.serve({ port: 80 }, (req) => new Response(`you asked ${new URL(req.url).pathname}`));
 * const text = await net.run(async () => (await a.fetch("http://10.0.0.2/x")).text());
 * assert.equal(text, "you asked /x");
 * await net.run(() => server.shutdown());
 * a.close();
 * b.close();
 * net.close();
 * ```
 */
export function createConnectionServer(
  host: ServerClock,
  options: ServeOptions,
  handler: ServeHandler,
  hooks: ServerHooks = {},
): ConnectionServer {
  if (typeof handler !== "function") throw new TypeError("Cannot serve: handler is not a function");
  const cfg = config(options);
  const conns = new Set<ConnState>();
  let closing = false;
  let requests = 0;
  let waiters: (() => void)[] = [];

  function fail(conn: TcpConn, status: number, reason: string): Promise<false> {
    hooks.onResponse?.(status);
    return sendError(conn, status, reason);
  }

  /**
   * FIN after the response, then read and drop until the peer's FIN (so
   * unread bytes do not turn the close into a reset that destroys the
   * response in flight, RFC 9112 §9.6), bounded by keepAliveTimeout.
   */
  async function closeGracefully(conn: TcpConn): Promise<void> {
    const linger = host.timer(() => closeQuietly(conn));
    linger.arm(host.now() + cfg.keepAlive);
    try {
      await conn.closeWrite();
      const sink = new Uint8Array(16384);
      while ((await conn.read(sink)) !== null) { /* drop */ }
    } catch {
      // closed, reset, or the linger ran out
    } finally {
      linger.cancel();
      closeQuietly(conn);
    }
  }

  function settled(): void {
    if (conns.size > 0) return;
    for (const w of waiters) w();
    waiters = [];
  }

  /** Serves `conn` until it closes; resolves then. */
  async function serve(conn: TcpConn): Promise<void> {
    const st: ConnState = { conn, idle: true };
    if (closing) {
      closeQuietly(conn);
      return;
    }
    conns.add(st);
    try {
      await serveConnection(st);
    } finally {
      conns.delete(st);
      settled();
    }
  }

  async function serveConnection(st: ConnState): Promise<void> {
    const { conn } = st;
    const reader = new MessageReader(
      conn,
      new HttpParser("request", { maxHeadBytes: cfg.maxHeadBytes, maxFields: cfg.maxFields }),
    );
    let timedOut = false;
    const idleTimer = host.timer(() => {
      timedOut = true;
      closeQuietly(conn);
    });
    st.timer = idleTimer;
    try {
      for (let served = 0; !closing || reader.hasBuffered; served++) {
        st.idle = true;
        idleTimer.arm(host.now() + cfg.keepAlive);
        const ahead = st.ahead;
        st.ahead = undefined;
        const ev = await (ahead ?? reader.next());
        idleTimer.cancel();
        st.idle = false;
        if (ev.kind === "eof") break;
        if (ev.kind === "error") {
          await fail(conn, ev.error.status, ev.error.reason);
          break;
        }
        if (ev.kind !== "head") break; // cannot happen: a message starts with its head
        requests++;
        const keep = await answer(st, reader, ev.head, served + 1 >= cfg.maxRequests);
        if (!keep) break;
        if (st.ahead === undefined) reader.resume();
      }
    } catch {
      // Reset, timeout (the timer closed it) or a write to a closed peer: nothing to answer.
    } finally {
      if (timedOut) hooks.onTimeout?.();
      idleTimer.cancel();
      reader.close();
      if (st.reset === true) resetQuietly(conn);
      else await closeGracefully(conn);
    }
  }

  /** Answers one request; returns whether the connection carries another. */
  async function answer(
    st: ConnState,
    reader: MessageReader,
    head: MessageHead,
    last: boolean,
  ): Promise<boolean> {
    const { conn } = st;
    const headers = new Headers();
    let hostField: string | undefined;
    let hosts = 0;
    let length: number | undefined;
    let chunked = false;
    let expectContinue = false;
    try {
      for (const [n, v] of head.fields) {
        const name = n.toLowerCase();
        headers.append(name, v);
        if (name === "host") {
          hosts++;
          hostField = v;
        } else if (name === "content-length") length = Number(v.split(",")[0]);
        else if (name === "transfer-encoding") chunked = true;
        else if (name === "expect" && v.toLowerCase() === "100-continue") expectContinue = true;
      }
    } catch {
      return fail(conn, 400, "a header field Headers refuses");
    }
    // RFC 9110 §10.1.1: a server ignores 100-continue in an HTTP/1.0 request.
    if (head.version[0] === 1 && head.version[1] === 0) expectContinue = false;
    // RFC 9112 §3.2: a 1.1 request has exactly one Host; llhttp leaves that to us.
    if (hosts > 1 || (head.version[1] >= 1 && hosts !== 1)) {
      return fail(conn, 400, "an HTTP/1.1 request needs exactly one Host");
    }
    if (head.version[0] !== 1) {
      return fail(conn, 505, `HTTP/${head.version[0]}.${head.version[1]} is not supported`);
    }
    if (length !== undefined && length > cfg.maxBody) {
      return fail(conn, 413, `the body is over ${cfg.maxBody} bytes`);
    }
    const hasBody = chunked || (length !== undefined && length > 0);
    if (!hasBody) {
      // The end of a body-less message is already parsed: take it.
      const end = await reader.next();
      if (end.kind !== "end") return fail(conn, 400, "a body-less request did not end");
    }
    const method = head.method;
    const url = requestUrl(head.target, hostField, conn.localAddr);
    if (url === undefined) return fail(conn, 400, "the request target is not a path");

    let bodyDone = !hasBody;
    let bodyTooLarge = false;
    let bodyFailed: ParseError | undefined;
    let sentContinue = false;
    let received = 0;
    const body = hasBody && method !== "GET" && method !== "HEAD"
      ? new ReadableStream<Uint8Array>({
        async pull(ctl) {
          if (expectContinue && !sentContinue) {
            sentContinue = true;
            await writeAll(conn, CONTINUE, stallWatch(st));
          }
          // A sender that stops mid-body is closed like an idle one.
          st.timer?.arm(host.now() + cfg.keepAlive);
          let ev: ReadEvent;
          try {
            ev = await reader.next();
          } finally {
            st.timer?.cancel();
          }
          if (ev.kind === "body") {
            received += ev.bytes.length;
            if (received > cfg.maxBody) {
              bodyTooLarge = true;
              ctl.error(new RangeError(`Request body is over ${cfg.maxBody} bytes`));
            } else ctl.enqueue(ev.bytes);
          } else if (ev.kind === "end") {
            bodyDone = true;
            ctl.close();
          } else {
            if (ev.kind === "error") bodyFailed = ev.error;
            ctl.error(new TypeError(`Request body failed: ${describe(ev)}`));
          }
        },
      }, { highWaterMark: 0 })
      : null;
    let request: Request;
    try {
      request = new Request(url, {
        method,
        headers,
        body,
        ...(body !== null ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch {
      return fail(conn, 400, "the request is not one a Request can hold");
    }
    let settle!: () => void;
    const completed = new Promise<void>((r) => settle = r);
    let response: Response;
    try {
      response = await handler(request, { remoteAddr: conn.remoteAddr, completed });
      if (!(response instanceof Response)) {
        throw new TypeError("Return value from serve handler must be a response");
      }
    } catch (e) {
      response = await errorResponse(e);
    }
    if (bodyTooLarge || bodyFailed !== undefined) {
      // The body broke the limit or the framing: that is the answer, whatever the handler said.
      response.body?.cancel().catch(() => {});
      settle();
      return bodyFailed !== undefined
        ? fail(conn, bodyFailed.status, bodyFailed.reason)
        : fail(conn, 413, `the body is over ${cfg.maxBody} bytes`);
    }
    // A body left unread is read and dropped (bounded) after the response,
    // unless its sender still waits for 100 Continue: then we close.
    let keep = head.keepAlive && !head.upgrade && !last && !closing &&
      !(!bodyDone && expectContinue && !sentContinue);
    // With the request read, read ahead while the response goes out: a
    // pipelined request waits there, and a peer that left (EOF, reset)
    // stops a streamed response instead of leaving it hanging.
    let gone: Promise<unknown> | undefined;
    if (bodyDone && !head.upgrade) {
      reader.resume();
      const ahead = reader.next();
      st.ahead = ahead;
      ahead.catch(() => {});
      gone = ahead.then(
        (ev) => ev.kind === "eof" || ev.kind === "error" ? true : new Promise(() => {}),
        () => true,
      );
    }
    let framing: Framing;
    try {
      framing = await frameBody(response.body);
    } catch {
      // The body failed before anything was sent: that is a server error.
      settle();
      hooks.onResponse?.(500);
      return sendError(conn, 500, "the response body failed");
    }
    try {
      const status = response.status;
      // RFC 9110 §6.4.1: 1xx, 204 and 304 carry no body and no framing.
      const bodyless = status === 204 || status === 304 || status < 200;
      if (bodyless && framing.kind === "chunked") framing.reader.cancel().catch(() => {});
      hooks.onResponse?.(status);
      let h = `HTTP/1.1 ${status} ${response.statusText || REASONS[status] || "Unknown"}\r\n`;
      h += fieldLines(response.headers, FRAMING_FIELDS);
      if (closing) keep = false;
      // An HTTP/1.0 peer cannot take chunked: the body ends with the connection.
      const closeDelimited = head.version[1] === 0 && framing.kind === "chunked" && !bodyless;
      if (closeDelimited) keep = false;
      if (!keep) h += "Connection: close\r\n";
      else if (head.version[1] === 0) h += "Connection: keep-alive\r\n";
      await writeMessage(conn, h, bodyless ? NONE : framing, {
        sendBody: method !== "HEAD" && !bodyless,
        emptyLength: !bodyless,
        closeDelimited,
        watch: stallWatch(st),
        ...(gone !== undefined ? { gone } : {}),
      });
    } catch (e) {
      // A body cut short must not look complete (a close-delimited one
      // would, after a FIN): reset the connection instead (SO_LINGER 0).
      st.reset = true;
      throw e;
    } finally {
      settle();
    }
    if (!keep) return false;
    if (!bodyDone) return await drain(reader, st.timer, () => host.now() + cfg.keepAlive);
    return true;
  }

  /** A peer that takes no response bytes for keepAliveTimeout is closed like an idle one. */
  function stallWatch(st: ConnState): WriteWatch {
    return {
      start: () => st.timer?.arm(host.now() + cfg.keepAlive),
      done: () => st.timer?.cancel(),
    };
  }

  async function errorResponse(e: unknown): Promise<Response> {
    if (options.onError !== undefined) {
      try {
        const r = await options.onError(e);
        if (r instanceof Response) return r;
      } catch {
        // fall through to the default
      }
    }
    return new Response("Internal Server Error", { status: 500 });
  }

  return {
    serve,
    close() {
      closing = true;
      for (const st of conns) if (st.idle) closeQuietly(st.conn);
    },
    whenIdle() {
      return conns.size === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r));
    },
    get active() {
      return conns.size;
    },
    get requests() {
      return requests;
    },
  };
}

/**
 * Serves HTTP/1.1 on `host` (a stack). See `Stack.serve`.
 *
 * @throws {TypeError | RangeError} For bad options.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
 * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
 * const server = b.serve({ port: 80 }, (req) => new Response(`you asked ${new URL(req.url).pathname}`));
 * const text = await net.run(async () => (await a.fetch("http://10.0.0.2/x")).text());
 * assert.equal(text, "you asked /x");
 * await net.run(() => server.shutdown());
 * a.close();
 * b.close();
 * net.close();
 * ```
 */
export function serveHttp(
  host: HttpHost,
  options: ServeOptions,
  handler: ServeHandler,
): HttpServer {
  const cs = createConnectionServer(host, options, handler);
  const maxConnections = checkInteger(
    options.maxConnections ?? 1024,
    1,
    1 << 20,
    "Cannot serve",
    "maxConnections",
  );
  const listener = host.listen({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 80,
  });
  let closing = false;
  let connections = 0;
  let rejected = 0;
  let acceptDone!: () => void;
  const accepting = new Promise<void>((r) => acceptDone = r);

  async function acceptLoop(l: TcpListener): Promise<void> {
    try {
      for (;;) {
        const conn = await l.accept();
        connections++;
        if (closing || cs.active >= maxConnections) {
          rejected++; // over maxConnections (or shutting down): closed unserved
          closeQuietly(conn);
        } else void cs.serve(conn);
      }
    } catch {
      // The listener was closed (shutdown) or the stack went away.
    } finally {
      closing = true;
      cs.close();
      acceptDone();
    }
  }

  const finished = accepting.then(() => cs.whenIdle());
  async function shutdown(): Promise<void> {
    if (!closing) {
      closing = true;
      listener.close();
      cs.close();
    }
    await finished;
  }

  const addr: NetAddr = listener.addr;
  if (options.signal !== undefined) {
    if (options.signal.aborted) queueMicrotask(() => void shutdown());
    else options.signal.addEventListener("abort", () => void shutdown(), { once: true });
  }
  void acceptLoop(listener);
  options.onListen?.(addr);
  return {
    addr,
    finished,
    shutdown,
    get requests() {
      return cs.requests;
    },
    get connections() {
      return connections;
    },
    get rejected() {
      return rejected;
    },
    [Symbol.asyncDispose]: shutdown,
  };
}

const NONE: Framing = { kind: "none" };

/** Reads and drops the rest of a request body (bounded); whether the connection goes on. */
async function drain(
  reader: MessageReader,
  timer: HttpTimer | undefined,
  deadline: () => number,
): Promise<boolean> {
  if (reader.busy) return false; // the handler still reads it: cannot share the connection
  let dropped = 0;
  for (;;) {
    timer?.arm(deadline());
    let ev: ReadEvent;
    try {
      ev = await reader.next();
    } finally {
      timer?.cancel();
    }
    if (ev.kind === "end") return true;
    if (ev.kind !== "body") return false;
    dropped += ev.bytes.length;
    if (dropped > MAX_DRAIN) return false;
  }
}

/** Answers with `status` and a short text, then the connection closes. */
async function sendError(conn: TcpConn, status: number, reason: string): Promise<false> {
  const body = encoder.encode(`${REASONS[status] ?? "Error"}: ${reason}\n`);
  const head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\n` +
    "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n";
  try {
    await writeMessage(conn, head, { kind: "length", bytes: body }, {
      sendBody: true,
      emptyLength: true,
    });
  } catch {
    // The peer is gone.
  }
  return false;
}

function describe(ev: { kind: string; error?: { reason: string } }): string {
  return ev.kind === "error" ? ev.error!.reason : "the connection closed mid-body";
}

/** The URL of a request: origin-form with Host, or absolute-form (RFC 9112 §3.2-§3.3). */
function requestUrl(
  target: string,
  hostField: string | undefined,
  local: NetAddr,
): string | undefined {
  if (/^http:\/\//i.test(target)) {
    try {
      return new URL(target).href;
    } catch {
      return undefined;
    }
  }
  if (target === "*") target = "/";
  if (!target.startsWith("/")) return undefined;
  const authority = hostField !== undefined && hostField !== ""
    ? hostField
    : local.hostname.includes(":")
    ? `[${local.hostname}]:${local.port}`
    : `${local.hostname}:${local.port}`;
  try {
    return new URL(`http://${authority}${target}`).href;
  } catch {
    return undefined;
  }
}

function resetQuietly(conn: TcpConn): void {
  try {
    conn.setLinger(0);
  } catch {
    // already closed
  }
  closeQuietly(conn);
}

function closeQuietly(conn: TcpConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
