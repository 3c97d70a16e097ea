/**
 * The socket adapters' one host/port text handling, shared by TCP's
 * `TcpConn`/`TcpListener` and UDP's `DatagramConn`: hostname text to an
 * {@linkcode IpAddress} (IPv4 or IPv6 text, or `"localhost"`; no name
 * resolution), and an address and port back to Deno's `NetAddr` shape.
 * Which error a bad value gets is decided in `errors.ts`.
 *
 * @module
 */
import { IpAddress, type IpKey } from "../wire/ip_address.ts";

/**
 * An address and port, shaped like `Deno.NetAddr`.
 *
 * @example
 * ```ts
 * import type { NetAddr } from "./address.ts";
 * import assert from "node:assert/strict";
 * const a: NetAddr = { transport: "tcp", hostname: "10.0.0.1", port: 80 };
 * assert.equal(a.port, 80);
 * ```
 */
export interface NetAddr {
  /** `"tcp"` or `"udp"`. */
  readonly transport: "tcp" | "udp";
  /** IPv4 dotted quad or IPv6 text (RFC 5952). */
  readonly hostname: string;
  /** Port number. */
  readonly port: number;
}

/**
 * The address `hostname` names: IPv4 or IPv6 text, or `"localhost"`
 * (127.0.0.1); null for anything else (no name resolution).
 *
 * @param hostname The text.
 * @returns The address, or null.
 *
 * @example
 * ```ts
 * import { parseHostname } from "./address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseHostname("localhost")?.toString(), "127.0.0.1");
 * assert.equal(parseHostname("2001:DB8::1")?.toString(), "2001:db8::1");
 * assert.equal(parseHostname("example.com"), null);
 * ```
 */
export function parseHostname(hostname: unknown): IpAddress | null {
  if (hostname === "localhost") return IpAddress.LOOPBACK4;
  return typeof hostname === "string" ? IpAddress.parse(hostname) : null;
}

/**
 * A socket address text taken apart: the address, and the zone of an IPv6
 * literal (`fe80::1%eth0` → `"eth0"`, `%2` → `"2"`; `""` when none).
 */
export interface HostText {
  /** The address. */
  readonly address: IpAddress;
  /** The text after `%`, or `""`. */
  readonly zone: string;
}

/**
 * Parses a socket host as Deno takes one: IPv4 or IPv6 text, `"localhost"`,
 * an IPv6 literal in brackets (`[::1]`), an IPv6 literal with a zone
 * (`fe80::1%eth0`, `fe80::1%2`, RFC 4007 §11). Null for anything else (no
 * name resolution; a zone on IPv4 text, or an empty one).
 *
 * @param hostname The text.
 * @returns The address and zone, or null.
 *
 * @example
 * ```ts
 * import { parseHostText } from "./address.ts";
 * import assert from "node:assert/strict";
 * const h = parseHostText("[fe80::1%eth0]")!;
 * assert.equal(h.address.toString(), "fe80::1");
 * assert.equal(h.zone, "eth0");
 * assert.equal(parseHostText("10.0.0.1%eth0"), null);
 * ```
 */
export function parseHostText(hostname: unknown): HostText | null {
  if (typeof hostname !== "string") return null;
  let text = hostname;
  if (text.length > 2 && text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const pct = text.indexOf("%");
  const zone = pct < 0 ? "" : text.slice(pct + 1);
  if (pct >= 0) {
    if (zone === "") return null;
    text = text.slice(0, pct);
  }
  const address = parseHostname(text);
  if (address === null || (pct >= 0 && address.family !== 6)) return null;
  return { address, zone };
}

const MAPPED_PREFIX = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * The IPv4 address an IPv4-mapped IPv6 address (`::ffff:10.0.0.2`, RFC
 * 4291 §2.5.5.2) stands for, or null for any other address.
 *
 * @param address An address.
 * @returns The IPv4 address, or null.
 *
 * @example
 * ```ts
 * import { unmapIpv4 } from "./address.ts";
 * import { IpAddress } from "../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unmapIpv4(IpAddress.parse("::ffff:10.0.0.2")!)?.toString(), "10.0.0.2");
 * assert.equal(unmapIpv4(IpAddress.parse("10.0.0.2")!), null);
 * ```
 */
export function unmapIpv4(address: IpAddress): IpAddress | null {
  if (address.family !== 6) return null;
  const b = address.bytes();
  for (let i = 0; i < 12; i++) if (b[i] !== MAPPED_PREFIX[i]) return null;
  return IpAddress.v4(((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0);
}

/**
 * The IPv4-mapped IPv6 form of an IPv4 address (`::ffff:10.0.0.2`), as a
 * dual-stack socket on Linux reports its IPv4 peers; other addresses as
 * they are.
 *
 * @param address An address.
 * @returns The mapped address, or `address`.
 *
 * @example
 * ```ts
 * import { mapIpv4 } from "./address.ts";
 * import { IpAddress } from "../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mapIpv4(IpAddress.parse("10.0.0.2")!).toString(), "::ffff:10.0.0.2");
 * ```
 */
export function mapIpv4(address: IpAddress): IpAddress {
  if (address.family !== 4) return address;
  const b = new Uint8Array(16);
  b.set(MAPPED_PREFIX);
  b.set(address.bytes(), 12);
  return IpAddress.v6(b);
}

/**
 * The hostname a socket shows for a datagram's sender: the address text
 * (IPv4-mapped when `mapped`, as {@linkcode netAddr}), and for an IPv6
 * link-local sender the zone it arrived on (`fe80::1%eth0`, RFC 4007 §11),
 * so that sending back to it reaches the same link on a stack with
 * several. Linux reports that zone as `sin6_scope_id`; Deno 2.9.6 drops
 * it, and a reply from a dual-homed host then fails. Other addresses show
 * no zone.
 *
 * @param address The sender's address.
 * @param mapped Show an IPv4 address IPv4-mapped (a dual-stack socket's view).
 * @param zone The arrival interface's name or index (`""`: unknown).
 * @returns The hostname text.
 *
 * @example
 * ```ts
 * import { peerHostname } from "./address.ts";
 * import { IpAddress } from "../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(peerHostname(IpAddress.parse("fe80::1")!, false, "eth0"), "fe80::1%eth0");
 * assert.equal(peerHostname(IpAddress.parse("2001:db8::1")!, false, "eth0"), "2001:db8::1");
 * assert.equal(peerHostname(IpAddress.parse("169.254.0.1")!, true, "eth0"), "::ffff:169.254.0.1");
 * ```
 */
export function peerHostname(address: IpAddress, mapped: boolean, zone: string): string {
  if (address.family === 4) return mapped ? mapIpv4(address).toString() : address.toString();
  const text = address.toString();
  return zone !== "" && address.isLinkLocal() ? `${text}%${zone}` : text;
}

/**
 * `{ transport, hostname, port }` for an address key and port.
 *
 * @param transport `"tcp"` or `"udp"`.
 * @param address The address (an `IpAddress` or its key).
 * @param port The port.
 * @param mapped Show an IPv4 address in the IPv4-mapped form (a dual-stack socket's view).
 * @returns A `Deno.NetAddr`-shaped object.
 *
 * @example
 * ```ts
 * import { netAddr } from "./address.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(netAddr("tcp", 0x0a000001, 80), { transport: "tcp", hostname: "10.0.0.1", port: 80 });
 * assert.equal(netAddr("tcp", 0x0a000001, 80, true).hostname, "::ffff:10.0.0.1");
 * ```
 */
export function netAddr(
  transport: "tcp" | "udp",
  address: IpAddress | IpKey,
  port: number,
  mapped = false,
): NetAddr {
  const a = address instanceof IpAddress ? address : IpAddress.fromKey(address);
  const hostname = mapped ? mapIpv4(a).toString() : a.toString();
  return { transport, hostname, port };
}
