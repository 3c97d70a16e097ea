/**
 * HTTP/1.1 over the stack's TCP: `Stack.serve` (like `Deno.serve`) and
 * `Stack.fetch` (the Web `fetch`), on virtual time under `net.run()` or on
 * the real clock over TUN/TAP.
 *
 * - **Parser:** llhttp, Node.js's HTTP parser, as the WebAssembly build
 *   undici ships (`npm:undici@8.12.4`, pinned; see `llhttp.ts` for why).
 *   Written by hand: the glue, limits, framing of what we send, keep-alive,
 *   the pool, redirects.
 * - **Server** (`server.ts`): keep-alive, pipelining answered in order,
 *   Content-Length and chunked bodies both ways as streams,
 *   `Expect: 100-continue`, 400/413/414/431, graceful shutdown.
 * - **Client** (`fetch.ts`): Request/Response/Headers, streamed bodies,
 *   redirects, `AbortSignal`, a `timeout` on the stack clock, keep-alive
 *   reuse per origin (6 idle per origin, 64 in all, 4 s), names from
 *   `stack.hosts`, errors as `TypeError` with a `cause`.
 * - **Not supported:** TLS (`https:`), HTTP/2, upgrades/WebSocket, CONNECT,
 *   content coding, cookies, caching.
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
 * const server = b.serve({ port: 8080 }, () => new Response("hi"));
 * const res = await net.run(() => a.fetch("http://10.0.0.2:8080/"));
 * assert.equal(await net.run(() => res.text()), "hi");
 * await net.run(() => server.shutdown());
 * a.close();
 * b.close();
 * net.close();
 * ```
 *
 * @module
 */
export { HttpParser } from "./llhttp.ts";
export { createConnectionServer } from "./server.ts";
export type { ConnectionServer, ServerHooks } from "./server.ts";
export type { FeedResult, HeadLimits, MessageHead, ParseError, ParserEvent } from "./llhttp.ts";
export type {
  FetchInit,
  HttpHost,
  HttpServer,
  HttpTimer,
  ServeHandler,
  ServeHandlerInfo,
  ServeOptions,
  ServerClock,
} from "./types.ts";
