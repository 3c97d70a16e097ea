/**
 * A small HTTP/1.1 server (RFC 9110, RFC 9112) on TCP port 80 that shows
 * the stack's state: `GET /` is a status page (HTML, or plain text when the
 * `Accept` field prefers `text/plain`) with the interfaces, the TCP socket
 * table like `ss -tani`, the multicast groups like `ip maddr` (with IGMP or
 * MLD loaded) and every non-zero counter; `GET /counters.json` is
 * the counters as one JSON object. `HEAD` works on both; other paths are
 * 404, other methods 405 (with `Allow`), unparsable requests 400 (and a
 * head over 16 KiB 431), then the connection is closed.
 *
 * It runs on the stack's HTTP server (`createConnectionServer`, the one
 * behind `stack.serve()`, parsing with llhttp): connections persist by
 * default in HTTP/1.1 (`Connection: close` ends them after the response),
 * and in HTTP/1.0 only with `Connection: keep-alive`; pipelined requests
 * are answered in order; a request body is read and dropped (up to 256 KiB,
 * else the connection closes). A connection idle for `keepAliveTimeoutMs`
 * (stack clock) is closed. `Date` is sent when the `epoch` option gives the
 * wall clock (µs since 1970 at stack time 0; `cli.ts up` sets it).
 *
 * - **Binds:** nothing (a service: it listens through `tcp.sockets`).
 * - **Requires:** `tcp.sockets` (optional: without TCP it serves nothing);
 *   `igmp.groups`, `mld.groups` (optional: the groups on the page).
 * - **Options:** `port` (80), `hostname` (every address: `::`, both families, with an IPv6 plugin, else `0.0.0.0`), `maxConnections` (256),
 *   `lingerMs` (10000), `keepAliveTimeoutMs` (5000), `maxRequests` (1000
 *   per connection), `epoch` (0: no clock, no `Date`).
 * - **Counters:** `requests` (that reached the page), `responses_200`,
 *   `responses_400`, `responses_404`, `responses_405`, `responses_413`,
 *   `responses_414`, `responses_431`, `responses_500`, `responses_505`,
 *   `keepalive_timeouts`, `connections`, `rejected`, `datagrams` (always
 *   0), `loop_drops` (0), `errors`.
 * - **Not supported:** TLS; conditional and range requests; HTTP/2.
 *
 * Graph: `tcp.sockets -> http`
 *
 * @example Two requests on one connection
 * ```ts
 * import { createStack, VirtualNetwork } from "../../../mod.ts";
 * import { httpPlugin } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [httpPlugin] }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const text = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 80 });
 *   await conn.write(new TextEncoder().encode(
 *     "HEAD / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n" +
 *       "GET /nothing HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n",
 *   ));
 *   const t = await new Response(conn.readable).text();
 *   conn.close();
 *   return t;
 * });
 * assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
 * assert.match(text, /\r\n\r\nHTTP\/1\.1 404 Not Found\r\n/);
 * assert.equal(server.counters.value("http.requests"), 2);
 * client.close();
 * server.close();
 * net.close();
 * ```
 *
 * @module
 */
import {
  CONNTRACK_SERVICE,
  type ConntrackService,
  createConnectionServer,
  defineService,
  type MulticastGroupsService,
  type ProtocolPlugin,
  type ServerClock,
} from "../../../mod.ts";
import { acceptQuality } from "./accept.ts";
import { countersJson, statusHtml, type StatusInfo, statusText } from "./page.ts";

export { acceptQuality } from "./accept.ts";

/** Statuses the server sends, each with a `responses_<status>` counter. */
const STATUSES = [200, 400, 404, 405, 413, 414, 431, 500, 505];
const NO_STORE = ["Cache-Control", "no-store"] as const;
const TEXT = ["Content-Type", "text/plain; charset=utf-8"] as const;

/** The HTTP status server plugin. */
export const httpPlugin: ProtocolPlugin = defineService({
  name: "http",
  description: "HTTP/1.1 status server on TCP port 80: status page, counters.json",
  port: 80,
  transports: ["tcp"],
  requires: [
    { service: "igmp.groups", optional: true },
    { service: "mld.groups", optional: true },
    // The status page lists tracked connections when a conntrack plugin is loaded.
    { service: CONNTRACK_SERVICE, optional: true },
  ],
  counters: ["requests", ...STATUSES.map((s) => `responses_${s}`), "keepalive_timeouts"],
  options: {
    keepAliveTimeoutMs: {
      default: 5000,
      description: "close a connection with no request for this long",
    },
    maxRequests: { default: 1000, description: "requests per connection before closing it" },
    epoch: {
      default: 0,
      description: "µs since 1970 at stack time 0, for Date (0: unknown, no Date field)",
    },
  },
  setup(ctx, host) {
    const epoch = Number(ctx.options.epoch);
    const keepAliveTimeout = Math.max(1, Number(ctx.options.keepAliveTimeoutMs));
    const maxRequests = Math.max(1, Number(ctx.options.maxRequests));
    const requests = ctx.counter("requests");
    const timeouts = ctx.counter("keepalive_timeouts");
    const responses = new Map(STATUSES.map((s) => [s, ctx.counter(`responses_${s}`)]));

    let conntrack: ConntrackService | undefined;

    function status(): StatusInfo {
      conntrack ??= ctx.optionalService<ConntrackService>(CONNTRACK_SERVICE);
      // The group tables, when IGMP / MLD are loaded (issue #11): the page lists the groups.
      const groups = ["igmp.groups", "mld.groups"]
        .map((n) => ctx.optionalService<MulticastGroupsService>(n))
        // (An older mld.groups without holders' filters lists other rows: not shown.)
        .filter((g): g is MulticastGroupsService => typeof g?.setFilter === "function");
      const date = clockDate();
      return {
        uptime: ctx.now(),
        ...(date !== undefined ? { date } : {}),
        interfaces: ctx.interfaces.list(),
        sockets: host.tcp?.sockets(),
        ...(conntrack !== undefined ? { connections: conntrack.list() } : {}),
        ...(groups.length > 0 ? { groups: groups.flatMap((g) => g.list()) } : {}),
        counters: ctx.counterSnapshot(),
      };
    }

    function clockDate(): string | undefined {
      if (epoch === 0 || !Number.isFinite(epoch)) return undefined;
      return new Date(Math.floor((epoch + ctx.now()) / 1000)).toUTCString();
    }

    function respond(
      status: number,
      body: string,
      fields: (readonly [string, string])[],
    ): Response {
      const headers = new Headers({ Server: "deno-netstack" });
      for (const [name, value] of fields) headers.append(name, value);
      const date = clockDate();
      if (date !== undefined) headers.set("Date", date);
      return new Response(body, { status, headers });
    }

    function route(req: Request): Response {
      requests.value++;
      if (req.method !== "GET" && req.method !== "HEAD") {
        return respond(405, "Method Not Allowed\n", [TEXT, ["Allow", "GET, HEAD"]]);
      }
      const url = new URL(req.url);
      if (url.pathname === "/") {
        // Content negotiation (RFC 9110 §12.5.1): HTML unless text/plain is preferred.
        const accept = req.headers.get("accept") ?? undefined;
        const plain = acceptQuality(accept, "text/plain") > acceptQuality(accept, "text/html");
        return plain
          ? respond(200, statusText(status()), [TEXT, NO_STORE, ["Vary", "Accept"]])
          : respond(200, statusHtml(status()), [
            ["Content-Type", "text/html; charset=utf-8"],
            NO_STORE,
            ["Vary", "Accept"],
          ]);
      }
      if (url.pathname === "/counters.json") {
        return respond(200, countersJson(ctx.counterSnapshot()), [
          ["Content-Type", "application/json"],
          NO_STORE,
        ]);
      }
      return respond(404, "Not Found\n", [TEXT]);
    }

    const clock: ServerClock = {
      now: () => ctx.now(),
      timer(callback) {
        const t = ctx.timer(() => callback());
        return { arm: (at) => t.arm(at), cancel: () => t.cancel() };
      },
    };
    const server = createConnectionServer(
      clock,
      {
        keepAliveTimeout,
        maxRequestsPerConnection: maxRequests,
        maxBodySize: 1 << 20,
      },
      route,
      {
        onResponse: (s) => {
          const c = responses.get(s);
          if (c !== undefined) c.value++;
        },
        onTimeout: () => void timeouts.value++,
      },
    );
    return {
      tcp: (conn) => server.serve(conn),
      teardown: () => server.close(),
    };
  },
});

export default httpPlugin;
