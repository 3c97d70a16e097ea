/**
 * `Stack.fetch`: the Web `fetch` over the stack's TCP, HTTP/1.1 only.
 * Request and Response are the runtime's own classes; bodies stream both
 * ways (a request body that ends within 64 KiB goes with Content-Length,
 * a longer one chunked); responses are parsed by llhttp; redirects follow
 * the Fetch standard's rules (`follow`, `manual`, `error`; 303, and 301/302
 * after POST, become GET; at most 20; `Authorization` dropped across
 * origins); connections are kept alive and reused per origin
 * (`_pool.ts`); an idempotent request on a reused connection the server
 * had already closed is sent again once on a new one (RFC 9112 §9.3.1).
 *
 * Names resolve through the stack's hosts table (`stack.hosts`, like
 * `/etc/hosts`), else the host must be a literal IPv4 or `[IPv6]` address.
 * Errors are `TypeError`s, as `fetch` throws, with the cause:
 * `Deno.errors.ConnectionRefused`, `ConnectionReset`, `TimedOut`,
 * `NotFound` (a name not in the table), or the parser's complaint; an
 * abort rejects with the signal's reason. `timeout` (ms, stack clock)
 * bounds the wait for the response head.
 *
 * Not supported: `https:` (no TLS), HTTP/2, content decoding (no
 * `Accept-Encoding` is sent), cookies, caches, CORS (there is no origin),
 * proxies.
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import { parseHostname } from "../sockets/address.ts";
import { checkMillis } from "../validate.ts";
import {
  fieldLines,
  frameBody,
  type Framing,
  FRAMING_FIELDS,
  MessageReader,
  writeMessage,
} from "./_io.ts";
import { type ClientConn, closeClient, type ConnectionPool } from "./_pool.ts";
import { HttpParser, type MessageHead } from "./llhttp.ts";
import type { FetchInit, HttpHost, HttpTimer } from "./types.ts";

const MAX_REDIRECTS = 20;
/** Interim (1xx) responses taken before the final one. */
const MAX_INTERIM = 32;
const LIMITS = { maxHeadBytes: 65536, maxFields: 256 };
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const REQUEST_SKIP: ReadonlySet<string> = new Set([...FRAMING_FIELDS, "host"]);

/** The server closed a kept connection before answering: a reset, as the caller sees it. */
class StaleConnection extends Deno.errors.ConnectionReset {}

/**
 * Fetches `input` over `host` (a stack) with `pool` for keep-alive. See
 * `Stack.fetch`.
 *
 * @example
 * ```ts
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
 * a.hosts.set("api", "10.0.0.9");
 * // Nobody is at 10.0.0.9: ARP gets no answer, the SYNs time out.
 * const err = await net.run(() => a.fetch("http://api/", { timeout: 500 }).catch((e) => e));
 * assert.ok(err instanceof TypeError);
 * assert.ok(err.cause instanceof Deno.errors.TimedOut);
 * a.close();
 * net.close();
 * ```
 */
export async function fetchHttp(
  host: HttpHost,
  pool: ConnectionPool,
  input: RequestInfo | URL,
  init: FetchInit = {},
): Promise<Response> {
  const request = new Request(input, init);
  const timeout = init.timeout === undefined // µs
    ? undefined
    : checkMillis(init.timeout, "Cannot fetch", "timeout");
  const signal = request.signal;
  if (signal.aborted) throw signal.reason;
  const guard = new Guard(
    host,
    signal,
    timeout === undefined ? undefined : host.now() + timeout,
    init.timeout,
  );
  try {
    let url = new URL(request.url);
    let method = request.method;
    const headers = new Headers(request.headers);
    let framing: Framing = await guard.race(frameBody(request.body));
    for (let redirects = 0;; redirects++) {
      const response = await exchange(host, pool, guard, { url, method, headers, framing });
      const location = response.headers.get("location");
      if (![301, 302, 303, 307, 308].includes(response.status) || location === null) {
        guard.markFinal();
        return finish(response, url, redirects > 0);
      }
      if (request.redirect === "manual") {
        guard.markFinal();
        return finish(response, url, redirects > 0);
      }
      await response.body?.cancel();
      if (request.redirect === "error") {
        throw new TypeError(`Cannot fetch ${url.href}: redirected (redirect is "error")`);
      }
      if (redirects >= MAX_REDIRECTS) {
        throw new TypeError(`Cannot fetch ${request.url}: more than ${MAX_REDIRECTS} redirects`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (e) {
        throw new TypeError(`Cannot fetch ${url.href}: bad Location ${location}`, { cause: e });
      }
      // Fetch §4.4 HTTP-redirect fetch: 303 (not HEAD), and 301/302 after POST, become GET.
      if (
        (response.status === 303 && method !== "HEAD") ||
        ((response.status === 301 || response.status === 302) && method === "POST")
      ) {
        method = "GET";
        framing = { kind: "none" };
        for (
          const h of ["content-type", "content-language", "content-location", "content-encoding"]
        ) {
          headers.delete(h);
        }
      } else if (framing.kind === "chunked") {
        throw new TypeError(`Cannot fetch ${url.href}: a streamed body cannot follow a redirect`);
      }
      if (next.origin !== url.origin) {
        // Credentials for one origin are not sent to another (as undici and browsers do).
        for (const h of ["authorization", "cookie", "proxy-authorization"]) headers.delete(h);
      }
      url = next;
    }
  } catch (e) {
    guard.dispose();
    throw e;
  }
}

function finish(response: Response, url: URL, redirected: boolean): Response {
  Object.defineProperty(response, "url", { value: url.href });
  Object.defineProperty(response, "redirected", { value: redirected });
  return response;
}

interface Exchange {
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  readonly framing: Framing;
}

/** One request and its response head, on a kept or a new connection. */
async function exchange(
  host: HttpHost,
  pool: ConnectionPool,
  guard: Guard,
  x: Exchange,
): Promise<Response> {
  if (x.url.protocol !== "http:") {
    throw new TypeError(`Cannot fetch ${x.url.href}: only http: is supported (no TLS)`);
  }
  const target = resolve(host, x.url);
  const key = `${target.hostname}|${target.port}`;
  for (let attempt = 0;; attempt++) {
    let cc = attempt === 0 ? pool.take(key) : undefined;
    const reused = cc !== undefined;
    if (cc === undefined) {
      try {
        const conn = await guard.race(host.connect(target));
        cc = { conn, reader: new MessageReader(conn, new HttpParser("response", LIMITS)), uses: 0 };
        pool.opened++;
      } catch (e) {
        throw guard.failure ?? networkError(x.url, e);
      }
    }
    try {
      return await roundTrip(pool, key, guard, cc, x);
    } catch (e) {
      closeClient(cc);
      if (guard.failure !== undefined) throw guard.failure;
      // RFC 9112 §9.3.1: an idempotent request on a kept connection the server
      // closed before answering may be sent again (a POST may not: it may have acted).
      if (
        e instanceof StaleConnection && reused && x.framing.kind !== "chunked" &&
        IDEMPOTENT.has(x.method)
      ) continue;
      throw e instanceof TypeError ? e : networkError(x.url, e);
    }
  }
}

async function roundTrip(
  pool: ConnectionPool,
  key: string,
  guard: Guard,
  cc: ClientConn,
  x: Exchange,
): Promise<Response> {
  const { conn, reader } = cc;
  guard.conn = conn;
  guard.bodyStarted();
  cc.uses++;
  reader.received = 0;
  reader.parser.skipBody = x.method === "HEAD";
  let head = `${x.method} ${x.url.pathname}${x.url.search} HTTP/1.1\r\nHost: ${x.url.host}\r\n`;
  if (!x.headers.has("accept")) head += "Accept: */*\r\n";
  head += fieldLines(x.headers, REQUEST_SKIP);
  // The caller's own "Connection: close" goes out (and the connection is not kept).
  const close = x.headers.get("connection")?.toLowerCase().includes("close") ?? false;
  if (close) head += "Connection: close\r\n";
  let writeDone = false;
  let writeError: unknown;
  const writing = writeMessage(conn, head, x.framing, {
    sendBody: true,
    emptyLength: x.method === "POST" || x.method === "PUT" || x.method === "PATCH",
  }).then(() => void (writeDone = true), (e) => void (writeError = e));
  // The head; 1xx interim responses (100 Continue) are skipped (RFC 9110 §15.2).
  let resHead: MessageHead;
  for (let interim = 0;; interim++) {
    const ev = await guard.race(reader.next());
    if (ev.kind === "head") {
      if (ev.head.status >= 100 && ev.head.status < 200 && ev.head.status !== 101) {
        // A server that never gets to its answer is a broken one.
        if (interim >= MAX_INTERIM) throw protocolError(x.url, `over ${MAX_INTERIM} 1xx responses`);
        const end = await guard.race(reader.next());
        if (end.kind !== "end") throw protocolError(x.url, "a 1xx response with a body");
        reader.resume();
        continue;
      }
      resHead = ev.head;
      break;
    }
    if (ev.kind === "eof") {
      if (reader.received === 0) throw new StaleConnection("closed before any response");
      throw protocolError(x.url, "the connection closed before the response head ended");
    }
    if (ev.kind === "error") throw protocolError(x.url, ev.error.reason);
    throw protocolError(x.url, "a body before the head");
  }
  if (writeError !== undefined && reader.received === 0) throw writeError;
  if (resHead.status === 101 || resHead.status < 200 || resHead.status > 599) {
    throw protocolError(x.url, `status ${resHead.status} is not supported`);
  }
  const headers = new Headers();
  try {
    for (const [n, v] of resHead.fields) headers.append(n, v);
  } catch (e) {
    throw protocolError(x.url, `a header field Headers refuses (${String(e)})`);
  }
  let released = false;
  /** The body ended (`keep`: cleanly) or was given up: keep or close the connection. */
  async function release(keep: boolean): Promise<void> {
    if (released) return;
    released = true;
    guard.bodyDone();
    if (keep && !writeDone) await writing;
    if (keep && writeDone && resHead.keepAlive && !close) {
      reader.resume();
      pool.put(key, cc);
    } else closeClient(cc);
  }
  if (NULL_BODY.has(resHead.status) || x.method === "HEAD") {
    const ev = await guard.race(reader.next());
    await release(ev.kind === "end");
    return new Response(null, { status: resHead.status, statusText: resHead.reason, headers });
  }
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const ev = await guard.race(reader.next());
        if (ev.kind === "body") ctl.enqueue(ev.bytes);
        else if (ev.kind === "end") {
          ctl.close();
          await release(true);
        } else {
          const why = ev.kind === "error" ? ev.error.reason : "the connection closed mid-body";
          ctl.error(protocolError(x.url, why));
          await release(false);
        }
      } catch (e) {
        ctl.error(guard.failure ?? networkError(x.url, e));
        await release(false);
      }
    },
    cancel() {
      void release(false);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: resHead.status, statusText: resHead.reason, headers });
}

/** The address and port to connect to for `url`. */
function resolve(host: HttpHost, url: URL): { hostname: string; port: number } {
  let name = url.hostname;
  if (name.startsWith("[") && name.endsWith("]")) name = name.slice(1, -1);
  else if (parseHostname(name) === null) {
    // URL lowercases the name; the table may not have (names are case-insensitive).
    const address = host.hosts.get(name) ?? lookupIgnoringCase(host.hosts, name);
    if (address === undefined) {
      throw new TypeError(`Cannot fetch ${url.href}: "${name}" is not in the hosts table`, {
        cause: new Deno.errors.NotFound(`"${name}" is not in the hosts table`),
      });
    }
    if (parseHostname(address.replace(/%[^%]*$/, "")) === null) {
      throw new TypeError(
        `Cannot fetch ${url.href}: "${name}" is "${address}" in the hosts table`,
        {
          cause: new Deno.errors.InvalidData(`"${address}" is not an IP address`),
        },
      );
    }
    name = address;
  }
  return { hostname: name, port: url.port === "" ? 80 : Number(url.port) };
}

function lookupIgnoringCase(hosts: ReadonlyMap<string, string>, name: string): string | undefined {
  for (const [k, v] of hosts) if (k.toLowerCase() === name) return v;
  return undefined;
}

function networkError(url: URL, e: unknown): TypeError {
  const what = e instanceof Deno.errors.ConnectionRefused
    ? "connection refused"
    : e instanceof Deno.errors.ConnectionReset
    ? "connection reset"
    : e instanceof Deno.errors.TimedOut
    ? "timed out"
    : e instanceof Error
    ? e.message
    : String(e);
  return new TypeError(`Cannot fetch ${url.href}: ${what}`, { cause: e });
}

function protocolError(url: URL, why: string): TypeError {
  return new TypeError(`Cannot fetch ${url.href}: not an HTTP/1.1 response: ${why}`, {
    cause: new Deno.errors.InvalidData(why),
  });
}

/**
 * Ends an exchange early: an abort (the signal's reason) or the timeout
 * (a `TypeError` caused by `Deno.errors.TimedOut`) closes the connection
 * and rejects whatever waits through {@linkcode Guard.race}.
 */
class Guard {
  failure: unknown = undefined;
  conn: { close(): void } | undefined;
  readonly #signal: AbortSignal;
  readonly #timer: HttpTimer | undefined;
  readonly #waiters = new Set<(e: unknown) => void>();
  readonly #onAbort = (): void => this.#fail(this.#signal.reason);

  constructor(host: HttpHost, signal: AbortSignal, deadline: Instant | undefined, ms?: number) {
    this.#signal = signal;
    signal.addEventListener("abort", this.#onAbort, { once: true });
    if (deadline !== undefined) {
      this.#timer = host.timer(() => {
        const cause = new Deno.errors.TimedOut(`no response within ${ms} ms`);
        this.#fail(new TypeError(`Cannot fetch: timed out after ${ms} ms`, { cause }));
      });
      this.#timer.arm(deadline);
    }
  }

  #fail(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    try {
      this.conn?.close();
    } catch {
      // already closed
    }
    for (const w of this.#waiters) w(reason);
    this.#waiters.clear();
  }

  /** `p`, or the failure if it comes first. */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.failure !== undefined) {
      p.catch(() => {});
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.#waiters.add(reject);
      p.then(resolve, reject).finally(() => this.#waiters.delete(reject));
    });
  }

  #final = false;
  #bodyDone = false;

  /** A new exchange (after a redirect) starts its body. */
  bodyStarted(): void {
    this.#bodyDone = false;
  }

  /** The exchange's body is read or given up. */
  bodyDone(): void {
    this.#bodyDone = true;
    if (this.#final) this.dispose();
  }

  /** The final response head came: the timeout no longer applies. */
  markFinal(): void {
    this.#final = true;
    this.#timer?.cancel();
    if (this.#bodyDone) this.dispose();
  }

  /** The exchange is over. */
  dispose(): void {
    this.#timer?.cancel();
    this.#signal.removeEventListener("abort", this.#onAbort);
  }
}
