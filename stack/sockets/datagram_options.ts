/**
 * What `Stack.listenDatagram` takes ({@linkcode ListenDatagramOptions}) and
 * what `DatagramConn.send`/`connect` take ({@linkcode DatagramAddr}), and
 * the checks that turn listen options into an open socket of the
 * `udp.sockets` service ({@linkcode openDatagramSocket}).
 *
 * @module
 */
import type { UdpService, UdpSocket } from "../services.ts";
import {
  checkFlag,
  checkInteger,
  checkPort,
  checkSocketHost,
  checkTransport,
  checkZone,
  endpointText,
  socketErrorToException,
  type ZoneResolver,
} from "./errors.ts";

/**
 * Options of `Stack.listenDatagram` (a superset of Deno's `UdpListenOptions`).
 *
 * @example
 * ```ts
 * import type { ListenDatagramOptions } from "./datagram_options.ts";
 * import assert from "node:assert/strict";
 * const options: ListenDatagramOptions = { transport: "udp", hostname: "10.0.0.1", port: 5353 };
 * assert.equal(options.port, 5353);
 * ```
 */
export interface ListenDatagramOptions {
  /** Only `"udp"` (Deno's `"unixpacket"` is not a network transport). */
  readonly transport: "udp";
  /**
   * Local address, IPv4 or IPv6 text (also `[…]`, a link-local one with its
   * zone `fe80::1%eth0`, or IPv4-mapped); default `"0.0.0.0"` (every IPv4
   * address). `"::"` is every IPv6 address (with an IPv6 plugin loaded)
   * and, unless `v6only`, every IPv4 one too: IPv4 peers then show
   * IPv4-mapped (`::ffff:10.0.0.2`), as Deno on Linux shows them. No name
   * resolution.
   */
  readonly hostname?: string;
  /**
   * With `hostname: "::"`: IPv6 only (Linux's IPV6_V6ONLY; Deno 2.9.6 has
   * no such option). Default false.
   */
  readonly v6only?: boolean;
  /** Local port; default 0, an ephemeral port. */
  readonly port?: number;
  /** SO_REUSEADDR: share the port with other sockets that set it (default false). */
  readonly reuseAddress?: boolean;
  /** SO_BROADCAST: allow sending to broadcast addresses (default false). */
  readonly broadcast?: boolean;
  /** TTL of datagrams sent, 1..255 (default: the stack's, 64). */
  readonly ttl?: number;
  /**
   * IP_MULTICAST_LOOP: datagrams this socket sends to a group also reach
   * this host's member sockets (default true, as on Linux).
   */
  readonly loopback?: boolean;
  /**
   * UDP_SEGMENT (Linux's socket option, GSO for UDP): a `send` of more than
   * this many bytes goes out as datagrams of `segmentSize` bytes each (the
   * last shorter), each a full UDP datagram on the wire. Inside the stack
   * the send stays one super-datagram (one route lookup, one IP header); a
   * TUN device with USO gets it whole and Linux segments it, any other link
   * gets it cut in software. One datagram (IP + UDP header + segmentSize)
   * must fit the path MTU, and a send may make at most 128 datagrams
   * (Linux's UDP_MAX_SEGMENTS): `send` rejects with a RangeError otherwise.
   * Deno's `send` takes no per-send options, so there is no per-send form
   * (Linux's `UDP_SEGMENT` control message). 0..65535; default 0: off.
   *
   * @example Five datagrams of 1000 bytes from one send
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const sent: number[] = [];
   * const stack = createStack({ seed: 1 });
   * stack.addInterface({
   *   driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { sent.push(p.length); p.release(); }, close() {} },
   *   addresses: ["10.0.0.1/24"],
   * });
   * const conn = stack.listenDatagram({ transport: "udp", port: 5000, segmentSize: 1000 });
   * assert.equal(await conn.send(new Uint8Array(5000), { hostname: "10.0.0.2", port: 9 }), 5000);
   * assert.deepEqual(sent, [1028, 1028, 1028, 1028, 1028]);
   * conn.close();
   * stack.close();
   * ```
   */
  readonly segmentSize?: number;
  /** Most datagrams queued for receive (default: the UDP plugin's, 256). */
  readonly receiveQueueLimit?: number;
  /**
   * Most bytes queued for receive, each datagram counted as the 2 KiB (or
   * 64.5 KiB) pooled buffer it takes (default: the UDP plugin's, 212992).
   */
  readonly receiveQueueBytes?: number;
}

/**
 * Where to send: `{ hostname, port }`, e.g. a `Deno.NetAddr` from `receive`.
 *
 * @example
 * ```ts
 * import type { DatagramAddr } from "./datagram_options.ts";
 * import assert from "node:assert/strict";
 * const to: DatagramAddr = { hostname: "10.0.0.2", port: 7 };
 * assert.equal(to.port, 7);
 * ```
 */
export interface DatagramAddr {
  /** An IPv4 (dotted quad) or IPv6 (RFC 4291 text) address of the socket's version. */
  readonly hostname: string;
  /** A port, 1..65535. */
  readonly port: number;
  /** Ignored; present on `Deno.NetAddr`. */
  readonly transport?: string;
}

/** A socket that {@linkcode openDatagramSocket} opened, with what its address text said. */
export interface OpenedDatagramSocket {
  /** The open socket. */
  readonly sock: UdpSocket;
  /** The bound address was IPv4-mapped text (`::ffff:…`): show IPv4 peers mapped. */
  readonly mapped: boolean;
  /** The zone of the bound address (-1: none). */
  readonly scope: number;
}

/**
 * Checks `options` in the order their errors take precedence and opens a
 * socket on `service` (`DatagramConn.open` wraps it).
 *
 * @param service The `udp.sockets` service of a stack.
 * @param options Where to bind and how.
 * @param zones Resolves zone names to interface indexes.
 * @returns The socket and what the bound address text said.
 * @throws {TypeError} For a transport other than `"udp"`, a hostname that is not an IP address, or a zone naming no interface.
 * @throws {RangeError} For a port, TTL, segmentSize or limit out of range.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example
 * ```ts
 * import { createStack } from "../../mod.ts";
 * import { openDatagramSocket } from "./datagram_options.ts";
 * import type { UdpService } from "../services.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * const udp = stack.service<UdpService>("udp.sockets")!;
 * const opened = openDatagramSocket(udp, { transport: "udp", port: 9 });
 * assert.equal(opened.sock.localPort, 9);
 * assert.throws(() => openDatagramSocket(udp, { transport: "udp", port: 70000 }), RangeError);
 * opened.sock.close();
 * stack.close();
 * ```
 */
export function openDatagramSocket(
  service: UdpService,
  options: ListenDatagramOptions,
  zones?: ZoneResolver,
): OpenedDatagramSocket {
  checkTransport(options.transport, "udp", "Cannot listen", true);
  const hostname = options.hostname ?? "0.0.0.0";
  // The same words as TCP's listen for the same mistake: the address and port as given.
  const action = `Cannot listen on ${endpointText(hostname, options.port ?? 0)}`;
  const port = checkPort(options.port ?? 0, action, true);
  const host = checkSocketHost(hostname, action, zones);
  checkZone(host, undefined, action); // Linux's bind(): EINVAL, a TypeError in Deno
  const address = host.address;
  const v6only = checkFlag(options.v6only, "v6only", action);
  const loopback = options.loopback === undefined
    ? true
    : checkFlag(options.loopback, "loopback", action);
  if (options.ttl !== undefined) checkInteger(options.ttl, "TTL", action, 1, 255);
  if (options.segmentSize !== undefined) {
    checkInteger(options.segmentSize, "segmentSize", action, 0, 65535);
  }
  for (const k of ["receiveQueueLimit", "receiveQueueBytes"] as const) {
    const v = options[k];
    if (v !== undefined) checkInteger(v, k, action, 1, Number.MAX_SAFE_INTEGER);
  }
  const sock = service.open({
    address,
    port,
    reuseAddress: options.reuseAddress === true,
    broadcast: options.broadcast === true,
    ttl: options.ttl ?? 0,
    segmentSize: options.segmentSize ?? 0,
    ...(v6only ? { v6only } : {}),
    ...(host.scope >= 0 ? { scope: host.scope } : {}),
    ...(options.receiveQueueLimit !== undefined
      ? { receiveQueueLimit: options.receiveQueueLimit }
      : {}),
    ...(options.receiveQueueBytes !== undefined
      ? { receiveQueueBytes: options.receiveQueueBytes }
      : {}),
  });
  if (typeof sock === "string") throw socketErrorToException(sock, action);
  sock.multicastLoop = loopback;
  return { sock, mapped: host.mapped, scope: host.scope };
}
