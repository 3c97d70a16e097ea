/**
 * The socket adapters' one error policy: which error class a mistake or a
 * failure gets, the same in `TcpConn`, `TcpListener` and `DatagramConn`.
 *
 * Reference: what Deno 2.9.6 itself does for `Deno.connect`, `Deno.listen`
 * and `Deno.listenDatagram` (measured), and where we differ:
 *
 * | mistake or failure                               | Deno                     | here                              |
 * | ------------------------------------------------ | ------------------------ | --------------------------------- |
 * | port an integer out of range (70000, -1, 0 where a peer's port is needed) | `RangeError`     | `RangeError`               |
 * | port not an integer (1.5, NaN, Infinity)         | `TypeError`              | `TypeError`                       |
 * | port not a number (`"80"`)                       | coerced                  | `TypeError` (no coercion)         |
 * | hostname not an address (`example.com`)          | resolved (DNS)           | `TypeError` (no name resolution)  |
 * | a zone naming no interface (`fe80::1%eth9`)      | `Error` (lookup failed)  | `TypeError`                       |
 * | link-local peer without a zone (`fe80::1`), TCP or UDP connect | `TypeError` (EINVAL) | `TypeError`         |
 * | buffer not a `Uint8Array` (`write("hello")`)     | `TypeError`              | `TypeError`, for `read` too       |
 * | a number option NaN or not a number (timeout, backlog, TTL, linger) | n/a   | `TypeError`                       |
 * | a number option out of its range                 | n/a                      | `RangeError`                      |
 * | a time (`timeout`, in ping, traceroute, fetch, serve's `keepAliveTimeout` too) | ms (`setTimeout`'s unit) | milliseconds, fractions allowed; NaN or not a number `TypeError` "timeout NaN is not a number", negative, infinite or above 2³¹−1 `RangeError` "timeout -1 is not in 0..2147483647 ms" (`checkMillis`, `validate.ts`) |
 * | any use after `close()`, and closing twice        | `Deno.errors.BadResource` | `Deno.errors.BadResource`        |
 * | `[Symbol.dispose]` after `close()`               | no error                 | no error                          |
 * | more than {@linkcode MAX_WAITING_CALLS} calls waiting on one socket | n/a    | `Deno.errors.Busy`               |
 *
 * A socket closed under a call still waiting (Deno 2.9.6 on loopback,
 * measured; `tests/sockets/close_like_deno_test.ts` runs real Deno next to
 * ours and compares the classes, so this table cannot drift):
 *
 * | closed under                           | Deno (its own `close()`)                        | here, the user's `close()`                          | here, the stack closed (`stack.close()`, `abortAll`) |
 * | -------------------------------------- | ----------------------------------------------- | --------------------------------------------------- | ---------------------------------------------------- |
 * | a pending `conn.read()` / `write()`    | `Interrupted` "operation canceled"              | `Interrupted` "Cannot read: the socket is closed"   | `Interrupted` "Cannot read: the stack is closed"     |
 * | a pending `Deno.connect`               | n/a (cannot be cancelled)                       | n/a                                                 | `Interrupted` "Cannot connect to 10.0.0.9:80: the stack is closed" |
 * | a pending `listener.accept()`          | `BadResource` "Listener has been closed"        | `BadResource` "Cannot accept: the socket is closed" | `Interrupted` "Cannot accept: the stack is closed"   |
 * | a pending `DatagramConn.receive()`     | `Interrupted` "operation canceled"              | `Interrupted` "Cannot receive: the socket is closed" | `Interrupted` "Cannot receive: the stack is closed" |
 * | `for await` over a listener or `DatagramConn` | the loop ends, no error                  | the loop ends, no error                             | the loop ends, no error                              |
 * | a call made after (read, write, closeWrite, accept, receive, send, options, close again) | `BadResource` "Bad resource ID" / "…has been closed" | `BadResource` "Cannot read: the socket is closed" | `BadResource` "Cannot read: the stack is closed" |
 * | pending `stack.ping`/`traceroute`      | n/a                                             | n/a                                                 | `Interrupted` "Cannot ping 10.0.0.9: the stack is closed" |
 * | a read, pending or after, once the peer reset (RST) | `ConnectionReset` "Connection reset by peer (os error 104)" | `ConnectionReset` "Cannot read: Connection reset by peer" | — |
 *
 * The rule: a call a close cuts short is `Interrupted` (Deno's own
 * cancellation), a call made afterwards `BadResource`, except a waiting
 * `accept`, which Deno fails with `BadResource` when its user closes the
 * listener (the stack closing it is still `Interrupted`: the user closed
 * nothing). Messages are "Cannot <op>: why": "the socket is closed" when the
 * user closed it, "the stack is closed" when the stack did, and a failure
 * the transport reports is its words after the action ("Cannot read:
 * Connection reset by peer", "Cannot write: Connection timed out",
 * "Cannot connect to 10.0.0.2:80: Connect timed out").
 * Bytes and an end of stream that arrived before still read.
 *
 * Failures the transports report as codes (`StreamError`, `UdpError`) map
 * through {@linkcode socketErrorToException}, one table for both.
 *
 * @module
 */
import type { StreamError } from "../stream.ts";
import type { UdpError } from "../services.ts";
import type { IpAddress } from "../wire/ip_address.ts";
import { type HostText, parseHostname, parseHostText, unmapIpv4 } from "./address.ts";
import {
  checkInteger as checkIntegerIn,
  checkNumber as checkNumberIn,
  shownText,
  shownValue,
} from "../validate.ts";

export { shownText };

/**
 * Most calls (`read`, `write`, `accept`, `receive`) one socket lets wait at
 * once; one more is refused with {@linkcode tooManyWaiting}, so a caller
 * that never awaits cannot grow a queue without bound.
 */
export const MAX_WAITING_CALLS = 4096;

/**
 * The error for one call too many waiting on a socket.
 *
 * @param action What was attempted (`Cannot read`).
 * @returns A `Deno.errors.Busy`.
 *
 * @example
 * ```ts
 * import { tooManyWaiting } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.ok(tooManyWaiting("Cannot read") instanceof Deno.errors.Busy);
 * ```
 */
export function tooManyWaiting(action: string): Error {
  return new Deno.errors.Busy(`${action}: ${MAX_WAITING_CALLS} calls already wait on this socket`);
}

/**
 * The error for a transport's failure code (`tcp.sockets` or
 * `udp.sockets`), with `action` ("Cannot send to 10.0.0.2:7") as the
 * start of the message, or `text` (the transport's own words) when given.
 *
 * @param code The code the service returned.
 * @param action What was attempted, e.g. `Cannot send to 10.0.0.2:7`.
 * @param text The transport's words for the failure, used as the message when not empty.
 * @returns An error to throw or reject with.
 *
 * @example
 * ```ts
 * import { socketErrorToException } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const e = socketErrorToException("connection_refused", "Cannot receive");
 * assert.ok(e instanceof Deno.errors.ConnectionRefused);
 * assert.equal(e.message, "Cannot receive: connection refused (ICMP port unreachable)");
 * assert.ok(socketErrorToException("addr_in_use", "Cannot listen") instanceof Deno.errors.AddrInUse);
 * ```
 */
export function socketErrorToException(
  code: StreamError | UdpError,
  action: string,
  text = "",
): Error {
  const m = (words: string) => text !== "" ? text : `${action}: ${words}`;
  switch (code) {
    case "closed":
      return new Deno.errors.BadResource(m("the socket is closed"));
    case "addr_in_use":
      return new Deno.errors.AddrInUse(m("address in use"));
    case "addr_not_available":
      return new Deno.errors.AddrNotAvailable(
        m(
          "address not available (not one of this host's, no usable source address yet, " +
            "or no free ephemeral port)",
        ),
      );
    case "too_many_sockets":
      return new Deno.errors.Busy(m("too many sockets open"));
    case "no_route":
      return new Deno.errors.NetworkUnreachable(m("no route to the network"));
    case "network_unreachable":
      return new Deno.errors.NetworkUnreachable(m("network unreachable (ICMP)"));
    case "host_unreachable":
      return new Deno.errors.NetworkUnreachable(m("host unreachable (ICMP)"));
    case "family_not_supported":
      return new Deno.errors.NetworkUnreachable(
        m("no network layer for this IP version is loaded"),
      );
    case "connection_refused":
      return new Deno.errors.ConnectionRefused(m("connection refused (ICMP port unreachable)"));
    case "connection_reset":
      return new Deno.errors.ConnectionReset(m("connection reset by peer"));
    case "timed_out":
      return new Deno.errors.TimedOut(m("timed out"));
    case "aborted":
      return new Deno.errors.ConnectionAborted(m("the connection was aborted"));
    case "interrupted": // a call the stack's closing cut short; see stackClosedError
      return new Deno.errors.Interrupted(m(STACK_CLOSED));
    case "not_connected":
      return new Deno.errors.NotConnected(
        m("no address given and the socket is not connected"),
      );
    case "broken_pipe":
      return new Deno.errors.BrokenPipe(m("the sending side is closed"));
    case "protocol_error":
      return new Deno.errors.InvalidData(m("protocol error (ICMP parameter problem)"));
    case "broadcast_not_enabled":
      return new Deno.errors.PermissionDenied(
        m("broadcast is not enabled on this socket (use broadcast: true or setBroadcast(true))"),
      );
    case "filtered":
      return new Deno.errors.PermissionDenied(m("dropped by a filter"));
    case "message_too_long":
      return new RangeError(m("message too long for the path (IPv4 would not fragment it)"));
    case "segment_too_long": // Linux EMSGSIZE (UDP_SEGMENT)
      return new RangeError(m("one datagram of segmentSize bytes does not fit the path MTU"));
    case "too_many_segments": // Linux EINVAL (UDP_MAX_SEGMENTS)
      return new RangeError(m("more than 128 datagrams of segmentSize bytes in one send"));
    case "invalid_port":
      return new RangeError(m("port must be an integer in 1..65535"));
    case "invalid_destination":
      return new TypeError(
        m("not a destination (the unspecified address, or another IP version than the socket's)"),
      );
    case "too_many_memberships": // Linux ENOBUFS (igmp_max_memberships)
      return new Deno.errors.Busy(m("too many memberships on this socket (20 at most)"));
    case "too_many_sources": // Linux ENOBUFS (igmp_max_msf)
      return new RangeError(m("too many sources in one filter (64 at most)"));
    case "no_such_interface": // Linux ENODEV
      return new Deno.errors.NotFound(m("no such interface"));
    case "invalid_option":
      return new TypeError(m("an option has a value the transport does not know"));
    default:
      return new Error(m(code.replaceAll("_", " ")));
  }
}

/**
 * The error for a socket its user closed: a call waiting then (a read, a
 * write, a receive) is cut short with `Deno.errors.Interrupted`, as Deno's
 * own (measured: "operation canceled"); any use after, closing twice
 * included, is `Deno.errors.BadResource`. Both say "the socket is closed".
 * (A waiting `accept` is the exception: Deno gives it `BadResource`, and so
 * does the listener here.)
 *
 * @param action What was attempted (`Cannot read`).
 * @param pending Whether the call was waiting when the socket closed (default: made after).
 * @returns `Interrupted` for a call cut short, `BadResource` for one made after.
 *
 * @example
 * ```ts
 * import { closedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.ok(closedError("Cannot close") instanceof Deno.errors.BadResource);
 * const cut = closedError("Cannot read", true);
 * assert.ok(cut instanceof Deno.errors.Interrupted);
 * assert.equal(cut.message, "Cannot read: the socket is closed");
 * ```
 */
export function closedError(action: string, pending = false): Error {
  const message = `${action}: the socket is closed`;
  return pending ? new Deno.errors.Interrupted(message) : new Deno.errors.BadResource(message);
}

/** Why a socket the stack closed under its user fails (the probes and `Stack` say it too). */
export const STACK_CLOSED = "the stack is closed";

/**
 * The error for a socket the stack closed (`stack.close()`, or TCP's
 * `abortAll` at shutdown), the user having closed nothing.
 *
 * @param action What was attempted (`Cannot read`).
 * @param pending Whether the call was waiting when the stack closed (else made after).
 * @returns `Deno.errors.Interrupted` for a call cut short, `Deno.errors.BadResource` for one made after.
 *
 * @example
 * ```ts
 * import { stackClosedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const cut = stackClosedError("Cannot read", true);
 * assert.ok(cut instanceof Deno.errors.Interrupted);
 * assert.equal(cut.message, "Cannot read: the stack is closed");
 * assert.ok(stackClosedError("Cannot read", false) instanceof Deno.errors.BadResource);
 * ```
 */
export function stackClosedError(action: string, pending: boolean): Error {
  const message = `${action}: ${STACK_CLOSED}`;
  return pending ? new Deno.errors.Interrupted(message) : new Deno.errors.BadResource(message);
}

/**
 * The address `hostname` names.
 *
 * @param hostname IPv4 or IPv6 text, or `"localhost"` (127.0.0.1).
 * @param action What was attempted, the start of the message.
 * @returns The address.
 * @throws {TypeError} If `hostname` is not an address (no name resolution).
 *
 * @example
 * ```ts
 * import { checkHostname } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkHostname("localhost", "Cannot listen").toString(), "127.0.0.1");
 * assert.throws(() => checkHostname("example.com", "Cannot listen"), TypeError);
 * ```
 */
export function checkHostname(hostname: unknown, action: string): IpAddress {
  const a = parseHostname(hostname);
  if (a === null) {
    throw new TypeError(
      `${action}: "${shownText(hostname)}" is not an IP address (no name resolution)`,
    );
  }
  return a;
}

/**
 * The interface index a zone names (`"eth0"`, or a decimal index), or
 * undefined when no interface has it. `Stack` makes one from its
 * interface table; asked for `""` (no zone), it names the stack's only
 * interface when there is exactly one (UDP `send` defaults to it).
 *
 * @example
 * ```ts
 * import type { ZoneResolver } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const zones: ZoneResolver = (z) => z === "eth0" || z === "1" ? 1 : undefined;
 * assert.equal(zones("eth0"), 1);
 * ```
 */
export type ZoneResolver = (zone: string) => number | undefined;

/** A socket host checked by {@linkcode checkSocketHost}. */
export interface SocketTarget {
  /** The address; the IPv4 one for an IPv4-mapped literal. */
  readonly address: IpAddress;
  /** The zone's interface index for a link-local or multicast IPv6 address, else -1. */
  readonly scope: number;
  /** The text was IPv4-mapped IPv6 (`::ffff:10.0.0.2`): show IPv4 addresses that way. */
  readonly mapped: boolean;
}

/**
 * Checks a socket host: IPv4 or IPv6 text, `"localhost"`, `[…]`, an IPv6
 * zone (`fe80::1%eth0`, `%2`), an IPv4-mapped literal (which means IPv4).
 * A zone counts only for link-local and multicast addresses, as on Linux;
 * on others it is checked and ignored.
 *
 * @param hostname The value given.
 * @param action What was attempted, the start of the message.
 * @param zones Resolves zone names (default: decimal indexes only).
 * @returns The address, the zone's interface index, and whether it was IPv4-mapped.
 * @throws {TypeError} If it is not an address (no name resolution), or its zone names no interface.
 *
 * @example
 * ```ts
 * import { checkSocketHost } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const t = checkSocketHost("fe80::1%eth0", "Cannot connect", (z) => z === "eth0" ? 2 : undefined);
 * assert.equal(t.scope, 2);
 * assert.equal(checkSocketHost("::ffff:10.0.0.2", "Cannot connect").address.toString(), "10.0.0.2");
 * assert.throws(() => checkSocketHost("fe80::1%eth9", "Cannot connect", () => undefined), TypeError);
 * ```
 */
export function checkSocketHost(
  hostname: unknown,
  action: string,
  zones?: ZoneResolver,
): SocketTarget {
  const h = parseHostText(hostname);
  if (h === null) {
    throw new TypeError(
      `${action}: "${shownText(hostname)}" is not an IP address (no name resolution)`,
    );
  }
  const scope = zoneScope(h, action, zones);
  const v4 = unmapIpv4(h.address);
  return v4 === null
    ? { address: h.address, scope, mapped: false }
    : { address: v4, scope: -1, mapped: true };
}

/**
 * The interface index the zone of `host` names, as Linux takes a scope id:
 * it counts only for link-local and multicast addresses (-1 for others,
 * and without a zone), but must name an interface whatever the address.
 * The one zone rule of sockets, `stack.ping`/`traceroute` and routes.
 *
 * @param host An address and its zone text (from `parseHostText`).
 * @param action What was attempted, the start of the message.
 * @param zones Resolves zone names (default: decimal indexes only).
 * @returns The interface index, or -1.
 * @throws {TypeError} If the zone names no interface.
 *
 * @example
 * ```ts
 * import { zoneScope } from "./errors.ts";
 * import { parseHostText } from "./address.ts";
 * import assert from "node:assert/strict";
 * const zones = (z: string) => z === "eth0" ? 2 : undefined;
 * assert.equal(zoneScope(parseHostText("fe80::1%eth0")!, "Cannot ping", zones), 2);
 * assert.equal(zoneScope(parseHostText("2001:db8::1%eth0")!, "Cannot ping", zones), -1);
 * assert.throws(() => zoneScope(parseHostText("fe80::1%eth9")!, "Cannot ping", zones), TypeError);
 * ```
 */
export function zoneScope(host: HostText, action: string, zones?: ZoneResolver): number {
  if (host.zone === "") return -1;
  const index = zones !== undefined
    ? zones(host.zone)
    : /^[0-9]{1,10}$/.test(host.zone)
    ? Number(host.zone)
    : undefined;
  if (index === undefined) {
    throw new TypeError(`${action}: no interface "${host.zone}" for the zone of ${host.address}`);
  }
  return host.address.isLinkLocal() || host.address.isMulticast() ? index : -1;
}

/**
 * Linux's zone rules (`__inet6_bind`, `tcp_v6_connect`,
 * `ip6_datagram_connect`), each an EINVAL there and a `TypeError` in Deno:
 * binding to a link-local local address needs its zone; connecting to a
 * link-local peer needs the peer's zone or a zoned link-local local
 * address that names the link; two zones must name the same link. No
 * default even on a one-interface stack: Linux has none either, and a
 * second interface would change the meaning of the same call.
 *
 * @param peer The peer, checked (for a bind alone: the local address, `local` undefined).
 * @param local The local address asked for (or bound), checked, if any.
 * @param action What was attempted, the start of the message.
 * @throws {TypeError} A link-local address without a zone, or zones naming two links.
 *
 * @example
 * ```ts
 * import { checkSocketHost, checkZone } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const zones = (z: string) => z === "eth0" ? 1 : z === "eth1" ? 2 : undefined;
 * const peer = checkSocketHost("fe80::2", "Cannot connect", zones);
 * assert.throws(() => checkZone(peer, undefined, "Cannot connect"), TypeError);
 * assert.throws(() => checkZone(peer, checkSocketHost("fe80::1", "Cannot bind"), "Cannot connect"), TypeError);
 * checkZone(peer, checkSocketHost("fe80::1%eth0", "Cannot bind", zones), "Cannot connect");
 * const other = checkSocketHost("fe80::2%eth1", "Cannot connect", zones);
 * assert.throws(() => checkZone(other, checkSocketHost("fe80::1%eth0", "Cannot bind", zones), "Cannot connect"), TypeError);
 * ```
 */
export function checkZone(
  peer: SocketTarget,
  local: SocketTarget | undefined,
  action: string,
): void {
  if (local !== undefined && local.address.isLinkLocal() && local.scope < 0) {
    throw needsZone(action, local.address);
  }
  if (!peer.address.isLinkLocal()) return;
  if (peer.scope >= 0) {
    if (local !== undefined && local.scope >= 0 && local.scope !== peer.scope) {
      throw new TypeError(
        `${action}: the zones of ${peer.address} and of the local address name different links`,
      );
    }
    return;
  }
  if (local !== undefined && local.scope >= 0) return;
  throw needsZone(action, peer.address);
}

function needsZone(action: string, address: IpAddress): TypeError {
  return new TypeError(
    `${action}: a link-local address needs a zone, e.g. ${address}%eth0 (RFC 4007 §11)`,
  );
}

/**
 * Checks an optional boolean option.
 *
 * @param value The value given.
 * @param name The option's name, for the message.
 * @param action What was attempted, the start of the message.
 * @returns The value, false when absent.
 * @throws {TypeError} If it is neither undefined nor a boolean.
 *
 * @example
 * ```ts
 * import { checkFlag } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkFlag(undefined, "v6only", "Cannot listen"), false);
 * assert.throws(() => checkFlag("yes", "v6only", "Cannot listen"), TypeError);
 * ```
 */
export function checkFlag(value: unknown, name: string, action: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`${action}: ${name} is not a boolean (got ${describe(value)})`);
  }
  return value;
}

/**
 * `host:port` for messages, an IPv6 address in brackets (`[fd00::1]:80`)
 * so that the port cannot be read as part of it.
 *
 * @param hostname The host as given (any value: messages show mistakes too).
 * @param port The port as given.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { endpointText } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(endpointText("10.0.0.2", 80), "10.0.0.2:80");
 * assert.equal(endpointText("fd00::1", 80), "[fd00::1]:80");
 * assert.equal(endpointText("[fd00::1]", 80), "[fd00::1]:80");
 * ```
 */
export function endpointText(hostname: unknown, port: unknown): string {
  const host = shownText(hostname);
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${bracketed}:${shownValue(port)}`;
}

/**
 * Checks a port.
 *
 * @param port The value given.
 * @param action What was attempted, the start of the message.
 * @param allowZero Whether 0 ("pick an ephemeral port") is allowed.
 * @returns The port.
 * @throws {TypeError} If `port` is not a number, or not an integer (Deno too).
 * @throws {RangeError} If it is an integer out of `1..65535` (`0..65535` with `allowZero`).
 *
 * @example
 * ```ts
 * import { checkPort } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkPort(80, "Cannot connect", false), 80);
 * assert.throws(() => checkPort(70000, "Cannot connect", false), RangeError);
 * assert.throws(() => checkPort(1.5, "Cannot connect", false), TypeError);
 * assert.throws(() => checkPort("80", "Cannot connect", false), TypeError);
 * ```
 */
export function checkPort(port: unknown, action: string, allowZero: boolean): number {
  if (typeof port !== "number" || !Number.isInteger(port)) {
    throw new TypeError(`${action}: port ${shownValue(port)} is not an integer`);
  }
  if (port < (allowZero ? 0 : 1) || port > 65535) {
    throw new RangeError(`${action}: port ${port} is not in ${allowZero ? 0 : 1}..65535`);
  }
  return port;
}

/**
 * Checks a number option: a number (not NaN) in `min..max`.
 *
 * @param value The value given.
 * @param name The option's name, for the message.
 * @param action What was attempted, the start of the message.
 * @param min Smallest allowed.
 * @param max Largest allowed (default: any finite number).
 * @returns The value.
 * @throws {TypeError} If it is not a number, or NaN.
 * @throws {RangeError} If it is out of range, or infinite.
 *
 * @example
 * ```ts
 * import { checkNumber } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkNumber(5, "timeout", "Cannot connect", 0), 5);
 * assert.throws(() => checkNumber(NaN, "timeout", "Cannot connect", 0), TypeError);
 * assert.throws(() => checkNumber(-1, "timeout", "Cannot connect", 0), RangeError);
 * ```
 */
export function checkNumber(
  value: unknown,
  name: string,
  action: string,
  min: number,
  max: number = Number.MAX_VALUE,
): number {
  return checkNumberIn(value, min, max, action, name);
}

/**
 * Checks a whole-number option: an integer in `min..max`.
 *
 * @param value The value given.
 * @param name The option's name, for the message.
 * @param action What was attempted, the start of the message.
 * @param min Smallest allowed.
 * @param max Largest allowed.
 * @returns The value.
 * @throws {TypeError} If it is not a number, or not an integer (like a port).
 * @throws {RangeError} If it is out of range.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkInteger(64, "TTL", "Cannot set TTL", 1, 255), 64);
 * assert.throws(() => checkInteger(0, "TTL", "Cannot set TTL", 1, 255), RangeError);
 * assert.throws(() => checkInteger(1.5, "TTL", "Cannot set TTL", 1, 255), TypeError);
 * ```
 */
export function checkInteger(
  value: unknown,
  name: string,
  action: string,
  min: number,
  max: number,
): number {
  return checkIntegerIn(value, min, max, action, name);
}

/**
 * Checks a buffer argument (`read(p)`, `write(p)`, `send(p)`).
 *
 * @param p The value given.
 * @param action What was attempted, the start of the message.
 * @returns `p`.
 * @throws {TypeError} If `p` is not a `Uint8Array` (Deno: "expected typed ArrayBufferView").
 *
 * @example
 * ```ts
 * import { checkBuffer } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkBuffer("hello", "Cannot write"), TypeError);
 * assert.throws(() => checkBuffer([], "Cannot read"), TypeError);
 * ```
 */
export function checkBuffer(p: unknown, action: string): Uint8Array {
  if (!(p instanceof Uint8Array)) throw bufferError(p, action);
  return p;
}

/**
 * The error for a buffer argument that is not a `Uint8Array`, for callers
 * that reject rather than throw.
 *
 * @param p The value given.
 * @param action What was attempted, the start of the message.
 * @returns A `TypeError`.
 *
 * @example
 * ```ts
 * import { bufferError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.ok(bufferError("hello", "Cannot write") instanceof TypeError);
 * ```
 */
export function bufferError(p: unknown, action: string): TypeError {
  return new TypeError(`${action}: expected a Uint8Array, got ${describe(p)}`);
}

/**
 * Checks `transport` against the one the call takes.
 *
 * @param transport The value given (`undefined` is taken as `expected` unless `required`).
 * @param expected `"tcp"` or `"udp"`.
 * @param action What was attempted, the start of the message.
 * @param required Whether the option must be present (Deno's `listenDatagram` requires it).
 * @throws {TypeError} For another transport.
 *
 * @example
 * ```ts
 * import { checkTransport } from "./errors.ts";
 * import assert from "node:assert/strict";
 * checkTransport(undefined, "tcp", "Cannot connect", false);
 * assert.throws(() => checkTransport("unix", "tcp", "Cannot connect", false), TypeError);
 * ```
 */
export function checkTransport(
  transport: unknown,
  expected: "tcp" | "udp",
  action: string,
  required: boolean,
): void {
  if (transport === expected || (transport === undefined && !required)) return;
  throw new TypeError(`${action}: transport "${String(transport)}" is not "${expected}"`);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return typeof v;
}
