/**
 * `defineService`: the one way to write a TCP or UDP service, the way the
 * built-in ones (echo, discard, chargen, daytime, http, iperf3) are written.
 * A spec (name, port, transports, handlers) becomes an ordinary plugin of
 * layer `"service"`: load it with `createStack({ extraPlugins })`, a stack
 * manifest, or `cli.ts up --serve ./path/to/mod.ts`.
 *
 * @module
 */
import type {
  OptionSpec,
  PluginContext,
  ProtocolHandlers,
  ProtocolManifest,
  ProtocolPlugin,
  Requirement,
} from "../manifest.ts";
import { validateManifest } from "../manifest.ts";
import { checkInteger, checkMillis } from "../validate.ts";
import { checkPort, shownText } from "../sockets/errors.ts";
import {
  type ConnHandler,
  type DatagramHandler,
  MAX_SERVICE_CONNECTIONS,
  SERVICE_HOST_COUNTERS,
  SERVICE_HOST_OPTIONS,
  type ServiceHost,
  ServiceRunner,
  type UdpQueueOptions,
} from "./host.ts";

/** A transport a service offers. */
export type ServiceTransport = "tcp" | "udp";

/**
 * What a service's `setup` returns: one handler per transport it offers
 * (both for `["tcp", "udp"]`), and what to close when the stack closes
 * (before the host closes its sockets).
 *
 * @example
 * ```ts
 * import type { ServiceHandlers } from "./define.ts";
 * import assert from "node:assert/strict";
 * const handlers: ServiceHandlers = {
 *   async udp(data, from, sock) {
 *     await sock.send(data, from);
 *   },
 *   udpQueue: { receiveQueueLimit: 1024, receiveQueueBytes: 4 << 20 },
 * };
 * assert.equal(typeof handlers.udp, "function");
 * ```
 */
export interface ServiceHandlers {
  /** Serves one accepted TCP connection (for `"tcp"`). */
  readonly tcp?: ConnHandler;
  /** Answers one datagram (for `"udp"`); the next waits for it. */
  readonly udp?: DatagramHandler;
  /** The UDP socket's receive queue, when the defaults (256 datagrams) are too short. */
  readonly udpQueue?: UdpQueueOptions;
  /** Called when the stack closes, before the host closes the sockets. */
  readonly teardown?: () => void;
}

/**
 * A service: what {@linkcode defineService} takes.
 *
 * @example
 * ```ts
 * import type { ServiceSpec } from "./define.ts";
 * import assert from "node:assert/strict";
 * const spec: ServiceSpec = {
 *   name: "hello",
 *   description: "says hello on TCP port 7001",
 *   port: 7001,
 *   transports: ["tcp"],
 *   setup: () => ({
 *     async tcp(conn) {
 *       await conn.write(new TextEncoder().encode("hello\r\n"));
 *     },
 *   }),
 * };
 * assert.equal(spec.port, 7001);
 * ```
 */
export interface ServiceSpec {
  /** The plugin's name: lowercase, unique in a stack; prefixes its counters and log lines. */
  readonly name: string;
  /** One line for `stack.describe()` and `cli.ts up --help`. */
  readonly description: string;
  /** The service's own semver (default "1.0.0"). */
  readonly version?: string;
  /** The default port (the `port` option; `--serve NAME:PORT` moves it). */
  readonly port: number;
  /** Which transports it offers, each with its handler and an option to turn it off. */
  readonly transports: readonly ServiceTransport[];
  /** Default of the `maxConnections` option: TCP connections served at once (256). */
  readonly maxConnections?: number;
  /** Default of the `lingerMs` option: how long `finish()` waits for the peer's FIN (10000). */
  readonly lingerMs?: number;
  /** The service's own counters, besides the host's ({@linkcode SERVICE_HOST_COUNTERS}). */
  readonly counters?: readonly string[];
  /** The service's own options, besides the host's ({@linkcode SERVICE_HOST_OPTIONS}). */
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Services it uses besides the transports (give optional ones `optional: true`). */
  readonly requires?: readonly (string | Requirement)[];
  /**
   * Wires the service when the stack boots (synchronous, no I/O): read
   * `ctx.options`, make counters with `ctx.counter`, return the handlers.
   * A throw fails the boot naming the service (a `TypeError` or `RangeError`
   * keeps its class, anything else becomes a `PluginSetupError`).
   */
  setup(ctx: PluginContext, host: ServiceHost): ServiceHandlers;
}

/** The `requires` of every service: both transports, each optional. */
const TRANSPORT_REQUIRES: readonly Requirement[] = [
  { service: "tcp.sockets", optional: true },
  { service: "udp.sockets", optional: true },
  // Only to know whether "every address" includes IPv6 (`::`, dual stack).
  { service: "ipv6.route", optional: true },
];

/** The host's options with the spec's defaults. */
function hostOptions(
  port: number,
  tcp: boolean,
  udp: boolean,
  maxConnections: number,
  lingerMs: number,
): Record<string, OptionSpec> {
  const o: Record<string, OptionSpec> = {
    port: { default: port, description: "port to listen on" },
    hostname: {
      default: "",
      description: "local address to listen on (empty: every address, IPv6 and IPv4 as " +
        '"::" when an IPv6 plugin is loaded, else 0.0.0.0)',
    },
    maxConnections: {
      default: maxConnections,
      description: "most TCP connections served at once; more are reset",
    },
    lingerMs: {
      default: lingerMs,
      description: "after our FIN, how long to wait for the peer's before resetting",
    },
  };
  if (tcp) o.tcp = { default: true, description: "serve on TCP" };
  if (udp) o.udp = { default: true, description: "serve on UDP" };
  return o;
}

/** Checks `spec.transports`: a non-empty list of "tcp" and/or "udp", each once. */
function checkTransports(transports: unknown, action: string): { tcp: boolean; udp: boolean } {
  if (!Array.isArray(transports) || transports.length === 0) {
    throw new TypeError(`${action}: transports must be a non-empty array of "tcp" and "udp"`);
  }
  const seen = new Set<string>();
  for (const t of transports) {
    if (t !== "tcp" && t !== "udp") {
      throw new TypeError(`${action}: transport "${shownText(t)}" is not "tcp" or "udp"`);
    }
    if (seen.has(t)) throw new TypeError(`${action}: transport "${t}" is listed twice`);
    seen.add(t);
  }
  return { tcp: seen.has("tcp"), udp: seen.has("udp") };
}

/** Checks what `setup` returned against the transports offered. */
function checkHandlers(
  h: unknown,
  offered: { tcp: boolean; udp: boolean },
  action: string,
): ServiceHandlers {
  if (typeof h !== "object" || h === null) {
    throw new TypeError(`${action}: setup returned ${shownText(h)}, not the handlers`);
  }
  const handlers = h as ServiceHandlers;
  for (const t of ["tcp", "udp"] as const) {
    const f = handlers[t];
    if (offered[t] && typeof f !== "function") {
      throw new TypeError(`${action}: the ${t} handler is not a function (it offers ${t})`);
    }
    if (!offered[t] && f !== undefined) {
      throw new TypeError(`${action}: a ${t} handler, but ${t} is not in its transports`);
    }
  }
  if (handlers.teardown !== undefined && typeof handlers.teardown !== "function") {
    throw new TypeError(`${action}: teardown is not a function`);
  }
  if (handlers.udpQueue !== undefined) {
    if (typeof handlers.udpQueue !== "object" || handlers.udpQueue === null) {
      throw new TypeError(`${action}: udpQueue ${shownText(handlers.udpQueue)} is not an object`);
    }
    for (const k of ["receiveQueueLimit", "receiveQueueBytes"] as const) {
      checkInteger(handlers.udpQueue[k], 1, 2 ** 31 - 1, action, k);
    }
  }
  return handlers;
}

/**
 * Makes a service plugin from `spec`. The host it runs on listens on every
 * address (IPv6 and IPv4 when an IPv6 plugin is loaded) once the stack is
 * ready, or on the `hostname` option once an interface has that address;
 * accepts at most `maxConnections` TCP connections at once (more are reset,
 * counted `rejected`); receives datagrams one at a time into one 64 KiB
 * buffer, from a queue bounded by `udpQueue`; never answers datagrams from
 * the ports of other simple services (7, 9, 13, 17, 19, 37: `loop_drops`);
 * logs and counts (`errors`) what a handler throws, except a peer going away,
 * and resets that connection; closes everything when the stack closes.
 *
 * Options every service takes (`--serve NAME:PORT` sets `port`):
 * {@linkcode SERVICE_HOST_OPTIONS}. Counters every service declares:
 * {@linkcode SERVICE_HOST_COUNTERS}, then the spec's own.
 *
 * Every field is checked here, before anything is made; option values given
 * at boot are checked when the stack sets the service up, before it listens
 * (the boot fails with the `TypeError` or `RangeError`, its message prefixed
 * `Plugin "NAME" failed in setup():`, as for any plugin's bad option).
 *
 * @param spec The service.
 * @returns The plugin.
 * @throws {TypeError} When a field has the wrong type, `transports` is
 * empty or unknown, or an option is named like one of the host's.
 * @throws {RangeError} When `port`, `maxConnections` or `lingerMs` is out of range.
 * @throws {PluginManifestError} When the name or a counter name is not allowed.
 *
 * @example A line-reversing TCP service, tried on a virtual network
 * ```ts
 * import { defineService } from "./define.ts";
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const shout = defineService({
 *   name: "shout",
 *   description: "sends back what it reads in capitals",
 *   port: 7002,
 *   transports: ["tcp"],
 *   counters: ["bytes"],
 *   setup(ctx, host) {
 *     const bytes = ctx.counter("bytes");
 *     return {
 *       async tcp(conn) {
 *         const text = await new Response(conn.readable).text();
 *         bytes.value += text.length;
 *         await conn.write(new TextEncoder().encode(text.toUpperCase()));
 *         await host.finish(conn);
 *       },
 *     };
 *   },
 * });
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const server = net.addNode(createStack({ clock: net.clock, seed: 1, extraPlugins: [shout] }));
 * const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
 * client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
 * const reply = await net.run(async () => {
 *   const conn = await client.connect({ hostname: "10.0.0.2", port: 7002 });
 *   await conn.write(new TextEncoder().encode("hi"));
 *   await conn.closeWrite();
 *   const text = await new Response(conn.readable).text();
 *   conn.close();
 *   return text;
 * });
 * assert.equal(reply, "HI");
 * assert.equal(server.counters.value("shout.bytes"), 2);
 * assert.equal(server.counters.value("shout.connections"), 1);
 * client.close();
 * server.close();
 * net.close();
 * ```
 */
export function defineService(spec: ServiceSpec): ProtocolPlugin {
  if (typeof spec !== "object" || spec === null) {
    throw new TypeError(`Cannot define a service: ${shownText(spec)} is not a spec object`);
  }
  if (typeof spec.name !== "string") {
    throw new TypeError(`Cannot define a service: name ${shownText(spec.name)} is not a string`);
  }
  const action = `Cannot define service ${spec.name}`;
  if (typeof spec.description !== "string") {
    throw new TypeError(`${action}: description is not a string`);
  }
  const port = checkPort(spec.port, action, false);
  const offered = checkTransports(spec.transports, action);
  const maxConnections = spec.maxConnections === undefined
    ? 256
    : checkInteger(spec.maxConnections, 1, MAX_SERVICE_CONNECTIONS, action, "maxConnections");
  if (spec.lingerMs !== undefined) checkMillis(spec.lingerMs, action, "lingerMs");
  const lingerMs = spec.lingerMs ?? 10_000;
  if (typeof spec.setup !== "function") {
    throw new TypeError(`${action}: setup is not a function`);
  }
  const own = spec.options ?? {};
  if (typeof own !== "object" || own === null) {
    throw new TypeError(`${action}: options is not an object`);
  }
  for (const k of Object.keys(own)) {
    if (SERVICE_HOST_OPTIONS.includes(k)) {
      throw new TypeError(
        `${action}: option "${k}" is the host's own (set its default in the spec)`,
      );
    }
  }
  if (spec.counters !== undefined && !Array.isArray(spec.counters)) {
    throw new TypeError(`${action}: counters is not an array`);
  }
  if (spec.requires !== undefined && !Array.isArray(spec.requires)) {
    throw new TypeError(`${action}: requires is not an array`);
  }
  const manifest: ProtocolManifest = {
    name: spec.name,
    version: spec.version ?? "1.0.0",
    api: "^1.0.0",
    description: spec.description,
    layer: "service",
    binds: [],
    requires: [...TRANSPORT_REQUIRES, ...(spec.requires ?? [])],
    counters: [...SERVICE_HOST_COUNTERS, ...(spec.counters ?? [])],
    options: {
      ...hostOptions(port, offered.tcp, offered.udp, maxConnections, lingerMs),
      ...own,
    },
    events: ["address-added"],
  };
  validateManifest(manifest);
  const setup = spec.setup;
  return Object.freeze({
    manifest,
    setup(ctx: PluginContext): ProtocolHandlers {
      const runner = new ServiceRunner(ctx, offered);
      const handlers = checkHandlers(setup(ctx, runner), offered, `Cannot set up ${ctx.name}`);
      runner.attach(handlers);
      const teardown = handlers.teardown;
      return {
        ready: () => runner.ready(),
        onEvent: (e) => runner.onEvent(e),
        teardown: () => {
          try {
            teardown?.();
          } finally {
            runner.close();
          }
        },
      };
    },
  });
}
