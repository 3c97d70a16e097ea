/**
 * The socket adapters' one host/port text handling, shared by TCP's
 * `TcpConn`/`TcpListener` and UDP's `DatagramConn`: hostname text to an
 * {@linkcode IpAddress} (IPv4 or IPv6 text, or `"localhost"`; no name
 * resolution), and an address and port back to Deno's `NetAddr` shape.
 * Which error a bad value gets is decided in `errors.ts`.
 *
 * @module
 */
import { formatIpKey, IpAddress, type IpKey } from "../wire/ip_address.ts";

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
 * `{ transport, hostname, port }` for an address key and port.
 *
 * @param transport `"tcp"` or `"udp"`.
 * @param address The address (an `IpAddress` or its key).
 * @param port The port.
 * @returns A `Deno.NetAddr`-shaped object.
 *
 * @example
 * ```ts
 * import { netAddr } from "./address.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(netAddr("tcp", 0x0a000001, 80), { transport: "tcp", hostname: "10.0.0.1", port: 80 });
 * ```
 */
export function netAddr(
  transport: "tcp" | "udp",
  address: IpAddress | IpKey,
  port: number,
): NetAddr {
  const hostname = address instanceof IpAddress ? address.toString() : formatIpKey(address);
  return { transport, hostname, port };
}
