/**
 * {@linkcode DatagramConn}: UDP sockets with the shape of
 * `Deno.listenDatagram`'s `Deno.DatagramConn` (`receive`, `send`, async
 * iteration, `close`), plus `connect`, `setBroadcast` and `setTTL`. It wraps
 * a synchronous socket of the `udp.sockets` service, so the stack core never
 * imports the UDP plugin; `Stack.listenDatagram` makes one.
 *
 * Errors are `Deno.errors` where Deno has one: `AddrInUse`,
 * `AddrNotAvailable`, `BadResource` (after close), `NetworkUnreachable` (no
 * route, or an ICMP net/host unreachable), `ConnectionRefused` (an ICMP port
 * unreachable about a connected socket's traffic, reported on the next
 * operation as Linux does), `PermissionDenied` (broadcast without
 * `broadcast: true`, like Linux's EACCES), `NotConnected`, `Busy` (too many
 * sockets or pending receives). Deno has no "message too long": a datagram
 * over 65507 bytes, or one IPv4 refuses to fragment, rejects with a
 * `RangeError`. Argument mistakes get the classes of the one error policy
 * (`errors.ts`), the same as `TcpConn`'s.
 *
 * @module
 */
import type { UdpService, UdpSocket } from "../services.ts";
import { netAddr } from "./address.ts";
import {
  type DatagramAddr,
  type ListenDatagramOptions,
  openDatagramSocket,
} from "./datagram_options.ts";
import { DatagramIterator, DatagramReceiver } from "./datagram_receive.ts";
import { DatagramSender, sendAction } from "./datagram_send.ts";
import {
  joinGroup,
  type MulticastInterfaces,
  type MulticastJoinOptions,
  type MulticastMembership,
  resolveInterface,
} from "./multicast.ts";
import {
  bufferError,
  checkInteger,
  checkPort,
  checkSocketHost,
  checkZone,
  closedError,
  endpointText,
  socketErrorToException,
  type ZoneResolver,
} from "./errors.ts";

export type { DatagramAddr, ListenDatagramOptions } from "./datagram_options.ts";

/**
 * A UDP socket, promise-shaped like `Deno.DatagramConn`.
 *
 * Datagrams that arrive while nobody waits sit in a bounded queue (count and
 * bytes; overflow is dropped and counted in {@linkcode DatagramConn.dropped}).
 * `receive()` resolves with a new `Uint8Array` per datagram, or fills the
 * buffer you pass (truncating a longer datagram, like `recvfrom`).
 *
 * @example Echo between two hosts on the virtual network
 * ```ts
 * import { createStack, VirtualNetwork } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link();
 * const a = net.addNode(createStack({ clock: net.clock, seed: 1 }));
 * const b = net.addNode(createStack({ clock: net.clock, seed: 2 }));
 * a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
 * b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
 *
 * const server = b.listenDatagram({ transport: "udp", port: 7 });
 * const client = a.listenDatagram({ transport: "udp" });
 * const reply = await net.run(async () => {
 *   const echo = (async () => {
 *     for await (const [data, from] of server) await server.send(data, from);
 *   })();
 *   await client.send(new TextEncoder().encode("hello"), { hostname: "10.0.0.2", port: 7 });
 *   const [data, from] = await client.receive();
 *   server.close(); // ends the for await loop
 *   await echo;
 *   return { text: new TextDecoder().decode(data), from };
 * });
 * assert.equal(reply.text, "hello");
 * assert.deepEqual(reply.from, { transport: "udp", hostname: "10.0.0.2", port: 7 });
 * client.close();
 * a.close();
 * b.close();
 * net.close();
 * ```
 */
export class DatagramConn implements AsyncIterable<[Uint8Array, Deno.NetAddr]> {
  readonly #sock: UdpSocket;
  readonly #rx: DatagramReceiver;
  readonly #tx: DatagramSender;
  /** The user called `close()` (`#rx.closed` is also set when the stack closes the socket). */
  #released = false;
  readonly #zones: ZoneResolver | undefined;
  /** The stack's interfaces, for multicast joins. */
  #interfaces: MulticastInterfaces | undefined;

  /**
   * Opens a socket on `service` as `Stack.listenDatagram` does.
   *
   * @param service The `udp.sockets` service of a stack.
   * @param options Where to bind and how.
   * @param zones Resolves zone names to interface indexes (`Stack` gives its interfaces').
   * @param interfaces The stack's interfaces, for multicast joins (`Stack` gives them).
   * @returns The open connection.
   * @throws {TypeError} For a transport other than `"udp"`, a hostname that is not an IP address, or a zone naming no interface.
   * @throws {Deno.errors.NetworkUnreachable} For an IP version no loaded plugin provides.
   * @throws {RangeError} For a port, TTL or limit out of range.
   * @throws {Deno.errors.AddrInUse} When the port is taken (or no ephemeral port is free).
   * @throws {Deno.errors.AddrNotAvailable} When `hostname` is not one of this host's addresses.
   * @throws {Deno.errors.Busy} When the UDP plugin's socket limit is reached.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import { DatagramConn } from "./datagram.ts";
   * import type { UdpService } from "../services.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = DatagramConn.open(stack.service<UdpService>("udp.sockets")!, { transport: "udp", port: 9 });
   * assert.equal(conn.addr.port, 9);
   * conn.close();
   * stack.close();
   * ```
   */
  static open(
    service: UdpService,
    options: ListenDatagramOptions,
    zones?: ZoneResolver,
    interfaces?: MulticastInterfaces,
  ): DatagramConn {
    const { sock, mapped, scope } = openDatagramSocket(service, options, zones);
    const conn = new DatagramConn(sock, zones);
    conn.#interfaces = interfaces;
    conn.#rx.interfaces = interfaces;
    conn.#rx.mapped ||= mapped;
    conn.#tx.boundScope = scope;
    return conn;
  }

  /**
   * Wraps an open socket of the `udp.sockets` service (use
   * {@linkcode DatagramConn.open} or `Stack.listenDatagram`).
   *
   * @param sock The socket; the connection takes it over (its `onReadable`).
   * @param zones Resolves zone names in `send`/`connect` (default: decimal indexes only).
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import { DatagramConn } from "./datagram.ts";
   * import type { UdpService } from "../services.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const sock = stack.service<UdpService>("udp.sockets")!.open({ port: 10 });
   * assert.ok(typeof sock !== "string");
   * const conn = new DatagramConn(sock);
   * assert.equal(conn.addr.port, 10);
   * conn.close();
   * stack.close();
   * ```
   */
  constructor(sock: UdpSocket, zones?: ZoneResolver) {
    this.#sock = sock;
    this.#zones = zones;
    this.#rx = new DatagramReceiver(sock);
    this.#tx = new DatagramSender(sock, zones);
  }

  /**
   * The local address: `{ transport: "udp", hostname, port }`. After
   * `connect` on a socket bound to 0.0.0.0 the hostname is the source
   * address the route chose.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp", port: 53 });
   * assert.deepEqual(conn.addr, { transport: "udp", hostname: "0.0.0.0", port: 53 });
   * conn.close();
   * stack.close();
   * ```
   */
  get addr(): Deno.NetAddr {
    return netAddr("udp", this.#sock.localAddress, this.#sock.localPort, this.#rx.mapped);
  }

  /**
   * The connected peer, or null.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * assert.equal(conn.remoteAddr, null);
   * conn.close();
   * stack.close();
   * ```
   */
  get remoteAddr(): Deno.NetAddr | null {
    const remote = this.#sock.remoteAddress;
    return remote === null ? null : netAddr("udp", remote, this.#sock.remotePort, this.#rx.mapped);
  }

  /**
   * Datagrams dropped because the receive queue was full.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * assert.equal(conn.dropped, 0);
   * conn.close();
   * stack.close();
   * ```
   */
  get dropped(): number {
    return this.#sock.dropped;
  }

  /**
   * Waits for one datagram and resolves with its bytes and sender. With
   * `p`, the datagram is copied into `p` (cut to `p.length`) and the result
   * is a subarray of `p`; without, it is a new array, yours to keep and
   * change: bytes no other call returns. Like Deno's (a view of its own
   * 65,507-byte buffer), it is a view: a datagram of up to 2 KiB shares
   * its `ArrayBuffer` (at most 64 KiB) with other datagrams of this
   * socket, so copy it (`data.slice()`) before transferring the buffer.
   *
   * An error pending from ICMP (connected sockets) rejects this call, once,
   * even when datagrams are queued, as on Linux.
   *
   * @param p A buffer to receive into.
   * @returns `[data, { transport: "udp", hostname, port }]`. A link-local
   * IPv6 sender's hostname carries the zone the datagram arrived on
   * (`fe80::2%eth0`, Linux's `sin6_scope_id`; Deno's shows none), so that
   * `send(data, from)` answers on that link of a host with several.
   * Other senders' hostnames have no zone.
   * @throws {Deno.errors.BadResource} When the connection is closed.
   * @throws {Deno.errors.Interrupted} When it is closed while this waits, by `close()` ("Cannot receive: the socket is closed", as Deno's) or by the stack ("…: the stack is closed").
   * @throws {Deno.errors.ConnectionRefused} After an ICMP port unreachable (connected).
   * @throws {Deno.errors.NetworkUnreachable} After an ICMP net or host unreachable (connected).
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * conn.close();
   * await assert.rejects(conn.receive(), Deno.errors.BadResource);
   * stack.close();
   * ```
   */
  receive(p?: Uint8Array): Promise<[Uint8Array, Deno.NetAddr]> {
    if (p !== undefined && !(p instanceof Uint8Array)) {
      return Promise.reject(bufferError(p, "Cannot receive"));
    }
    return this.#rx.receive(p);
  }

  /**
   * Sends `p` as one datagram to `addr`, or to the connected peer when
   * `addr` is omitted, and resolves with its length. A connected socket may
   * still send elsewhere (as `sendto` on Linux).
   *
   * @param p The payload, at most 65507 bytes; copied before this returns.
   * @param addr Destination `{ hostname, port }`.
   * @returns The number of bytes sent.
   * @throws {Deno.errors.BadResource} When the connection is closed.
   * @throws {Deno.errors.PermissionDenied} To a broadcast address without `broadcast`.
   * @throws {Deno.errors.NetworkUnreachable} Without a route (or after an ICMP unreachable).
   * @throws {Deno.errors.ConnectionRefused} After an ICMP port unreachable (connected).
   * @throws {RangeError} For a payload over 65507 bytes (or one IPv4 will not fragment).
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * stack.addInterface({ driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { p.release(); }, close() {} }, addresses: ["10.0.0.1/24"] });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * assert.equal(await conn.send(new Uint8Array(12), { hostname: "10.0.0.2", port: 9 }), 12);
   * await assert.rejects(conn.send(new Uint8Array(1), { hostname: "10.0.0.255", port: 9 }), Deno.errors.PermissionDenied);
   * await assert.rejects(conn.send(new Uint8Array(70000), { hostname: "10.0.0.2", port: 9 }), RangeError);
   * conn.close();
   * stack.close();
   * ```
   */
  send(p: Uint8Array, addr?: DatagramAddr): Promise<number> {
    if (!(p instanceof Uint8Array)) return Promise.reject(bufferError(p, "Cannot send"));
    try {
      if (this.#rx.closed) throw this.#rx.gone(sendAction(addr));
      return Promise.resolve(this.#tx.send(p, addr));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Fixes the peer (Linux `connect` on a UDP socket): only datagrams from
   * `addr` are received, `send` may omit the address, and ICMP errors about
   * the traffic come back as rejections of the next `send` or `receive`.
   * A socket bound to 0.0.0.0 gets bound to the route's source address.
   *
   * @param addr The peer.
   * @throws {Deno.errors.NetworkUnreachable} Without a route to `addr`.
   * @throws {Deno.errors.PermissionDenied} To a broadcast address without `broadcast`.
   * @throws {Deno.errors.BadResource} When the connection is closed.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * stack.addInterface({ driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { p.release(); }, close() {} }, addresses: ["10.0.0.1/24"] });
   * const conn = stack.listenDatagram({ transport: "udp", port: 4000 });
   * conn.connect({ hostname: "10.0.0.2", port: 53 });
   * assert.equal(conn.addr.hostname, "10.0.0.1");
   * assert.deepEqual(conn.remoteAddr, { transport: "udp", hostname: "10.0.0.2", port: 53 });
   * assert.throws(() => conn.connect({ hostname: "192.168.9.9", port: 53 }), Deno.errors.NetworkUnreachable);
   * conn.close();
   * stack.close();
   * ```
   */
  connect(addr: DatagramAddr): void {
    const action = `Cannot connect to ${endpointText(addr.hostname, addr.port)}`;
    if (this.#rx.closed) throw this.#rx.gone(action);
    const peer = checkSocketHost(addr.hostname, action, this.#zones);
    const port = checkPort(addr.port, action, false);
    const bound = { address: this.#sock.localAddress, scope: this.#tx.boundScope, mapped: false };
    checkZone(peer, bound, action);
    const err = this.#sock.connect(peer.address, port, peer.scope);
    if (err !== undefined) throw socketErrorToException(err, action);
  }

  /**
   * Turns SO_BROADCAST on or off (off by default): whether datagrams may go
   * to 255.255.255.255 or a subnet's broadcast address.
   *
   * @param on Allow broadcast.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * stack.addInterface({ driver: { linkType: 101, mtu: 1500, attach() {}, transmit(p) { p.release(); }, close() {} }, addresses: ["10.0.0.1/24"] });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * conn.setBroadcast(true);
   * assert.equal(await conn.send(new Uint8Array(4), { hostname: "255.255.255.255", port: 67 }), 4);
   * conn.close();
   * stack.close();
   * ```
   */
  setBroadcast(on: boolean): void {
    if (this.#rx.closed) throw this.#rx.gone("Cannot set broadcast");
    this.#sock.broadcast = on;
  }

  /**
   * Sets the TTL of unicast and broadcast datagrams (IP_TTL); multicast
   * goes out with the membership's `setTTL` (IP_MULTICAST_TTL, default 1).
   *
   * @param ttl 1..255.
   * @throws {RangeError} Out of range.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * conn.setTTL(5);
   * assert.throws(() => conn.setTTL(0), RangeError);
   * conn.close();
   * stack.close();
   * ```
   */
  setTTL(ttl: number): void {
    if (this.#rx.closed) throw this.#rx.gone("Cannot set TTL");
    this.#sock.ttl = checkInteger(ttl, "TTL", "Cannot set TTL", 1, 255);
  }

  /**
   * Joins IPv4 group `address` on the interface whose address is
   * `networkInterface` ("0.0.0.0": the interface the route to the group
   * takes), as Deno's `joinMulticastV4`. With `options.sources`, a
   * source-specific join (RFC 3678). Every socket of the host bound to the
   * port then hears the group (Linux's IP_MULTICAST_ALL); this one hears
   * only what its filter allows. Closing the socket leaves.
   *
   * @returns The membership (`leave`, `setLoopback`, `setTTL`, `block`, …).
   * Rejects with a TypeError for malformed arguments, RangeError for a
   * non-multicast group, `AddrInUse` when already joined there,
   * `AddrNotAvailable` for an address no interface holds,
   * `NetworkUnreachable` without IGMP.
   *
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork();
   * const stack = createStack({ clock: net.clock, seed: 1 });
   * stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
   * const conn = stack.listenDatagram({ transport: "udp", port: 5000 });
   * const m = await conn.joinMulticastV4("239.1.2.3", "10.0.0.1");
   * assert.deepEqual(m.filter, { mode: "exclude", sources: [] });
   * await m.leave();
   * conn.close();
   * stack.close();
   * ```
   */
  joinMulticastV4(
    address: string,
    networkInterface: string,
    options: MulticastJoinOptions = {},
  ): Promise<MulticastMembership> {
    return this.#join(4, address, networkInterface, options);
  }

  /**
   * Joins IPv6 group `address` on interface `networkInterfaceIndex` (0: the
   * route's), as Deno's `joinMulticastV6`; see
   * {@linkcode DatagramConn.joinMulticastV4}. Rejects with `NotFound` for
   * an index no interface has.
   *
   * @example
   * ```ts
   * import { createStack, VirtualNetwork } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const net = new VirtualNetwork();
   * const stack = createStack({ clock: net.clock, seed: 1 });
   * const eth = stack.addInterface({ driver: net.link().a, addresses: ["fe80::1/64"] });
   * const conn = stack.listenDatagram({ transport: "udp", hostname: "::", port: 5000 });
   * await assert.rejects(conn.joinMulticastV6("ff05::1:3", eth.index + 1), Deno.errors.NotFound);
   * await assert.rejects(conn.joinMulticastV6("239.1.2.3", eth.index), TypeError);
   * conn.close(); // a socket's memberships end with it
   * stack.close();
   * ```
   */
  joinMulticastV6(
    address: string,
    networkInterfaceIndex: number,
    options: MulticastJoinOptions = {},
  ): Promise<MulticastMembership> {
    return this.#join(6, address, networkInterfaceIndex, options);
  }

  #join(
    family: 4 | 6,
    address: string,
    iface: string | number,
    options: MulticastJoinOptions,
  ): Promise<MulticastMembership> {
    try {
      const rx = this.#rx;
      if (rx.closed) throw rx.gone(`Cannot join ${address}`);
      return Promise.resolve(
        // The membership's calls after a close say whose close it was, as the socket's do.
        joinGroup(this.#sock, family, address, iface, options, this.#interfaces, (a) => rx.gone(a)),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * IP_MULTICAST_IF / IPV6_MULTICAST_IF: the interface datagrams to groups
   * leave by: an IPv4 interface address or an interface index ("0.0.0.0"
   * or 0: the route's, the default).
   *
   * @throws {TypeError} For a value of the wrong form.
   * @throws {Deno.errors.AddrNotAvailable} For an IPv4 address no interface holds.
   * @throws {Deno.errors.NotFound} For an index no interface has.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * conn.setMulticastInterface("0.0.0.0");
   * assert.throws(() => conn.setMulticastInterface("10.9.9.9"), Deno.errors.AddrNotAvailable);
   * conn.close();
   * stack.close();
   * ```
   */
  setMulticastInterface(networkInterface: string | number): void {
    const action = "Cannot set the multicast interface";
    if (this.#rx.closed) throw this.#rx.gone(action);
    const family = typeof networkInterface === "number" ? 6 : 4;
    this.#sock.multicastInterface = resolveInterface(
      family,
      networkInterface,
      this.#interfaces,
      action,
    );
  }

  /**
   * Closes the socket: frees the port, drops queued datagrams, and rejects
   * pending `receive()` calls with `Interrupted`, as Deno does (a `for await`
   * loop just ends); calls after reject with `BadResource`. Closing it again
   * throws `BadResource`, as Deno's does (and as `TcpConn.close()` does); a
   * socket the stack closed may still be closed once.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp", port: 7 });
   * conn.close();
   * stack.listenDatagram({ transport: "udp", port: 7 }).close(); // the port is free again
   * await assert.rejects(conn.send(new Uint8Array(1), { hostname: "10.0.0.1", port: 7 }), Deno.errors.BadResource);
   * assert.throws(() => conn.close(), Deno.errors.BadResource);
   * stack.close();
   * ```
   */
  close(): void {
    if (this.#released) throw closedError("Cannot close");
    this.#released = true;
    this.#sock.onReadable = null;
    this.#sock.close();
    this.#rx.close();
  }

  /**
   * `using conn = stack.listenDatagram(...)` closes it at the end of the scope.
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * {
   *   using _conn = stack.listenDatagram({ transport: "udp", port: 7 });
   * }
   * stack.listenDatagram({ transport: "udp", port: 7 }).close();
   * assert.ok(true);
   * stack.close();
   * ```
   */
  [Symbol.dispose](): void {
    if (!this.#released) this.close();
  }

  /**
   * Yields `[data, addr]` per datagram until the connection closes (like
   * Deno's, a `BadResource` ends the loop; other errors are thrown).
   *
   * @example
   * ```ts
   * import { createStack } from "../../mod.ts";
   * import assert from "node:assert/strict";
   * const stack = createStack({ seed: 1 });
   * const conn = stack.listenDatagram({ transport: "udp" });
   * conn.close();
   * let n = 0;
   * for await (const _ of conn) n++;
   * assert.equal(n, 0);
   * stack.close();
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<[Uint8Array, Deno.NetAddr], undefined> {
    return new DatagramIterator(this.#rx);
  }
}
