/**
 * The socket adapters' one host/port parser and one error policy, shared by
 * TCP's `TcpConn`/`TcpListener` and UDP's `DatagramConn`, so the same
 * mistake gets the same error class in both (the GUIDE's "Errors"):
 *
 * - a hostname that is not IPv4 or IPv6 text (no name resolution; only
 *   `"localhost"`, which is 127.0.0.1): `TypeError`;
 * - a port that is not a number: `TypeError`; a number that is not an
 *   integer in range (1..65535, or 0..65535 where 0 means "pick one"):
 *   `RangeError`.
 *
 * Protocol-neutral: it knows addresses and ports, not TCP or UDP.
 *
 * @module
 */
import { IpAddress } from "./wire/ip_address.ts";

/**
 * The address of `hostname`: IPv4 or IPv6 text, or `"localhost"`
 * (127.0.0.1).
 *
 * @param hostname The text.
 * @param action What was attempted, the start of the message (`Cannot connect to x:80`).
 * @returns The address.
 * @throws {TypeError} If `hostname` is not an address (no name resolution).
 *
 * @example
 * ```ts
 * import { parseSocketHost } from "./socket_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseSocketHost("localhost", "Cannot listen").toString(), "127.0.0.1");
 * assert.equal(parseSocketHost("2001:DB8::1", "Cannot listen").toString(), "2001:db8::1");
 * assert.throws(() => parseSocketHost("example.com", "Cannot listen"), TypeError);
 * ```
 */
export function parseSocketHost(hostname: string, action: string): IpAddress {
  if (hostname === "localhost") return IpAddress.LOOPBACK4;
  const a = typeof hostname === "string" ? IpAddress.parse(hostname) : null;
  if (a === null) {
    throw new TypeError(`${action}: "${hostname}" is not an IP address (no name resolution)`);
  }
  return a;
}

/**
 * Checks a port.
 *
 * @param port The value given.
 * @param action What was attempted, the start of the message.
 * @param allowZero Whether 0 ("pick an ephemeral port") is allowed.
 * @returns The port.
 * @throws {TypeError} If `port` is not a number.
 * @throws {RangeError} If it is not an integer in `1..65535` (`0..65535` with `allowZero`).
 *
 * @example
 * ```ts
 * import { checkSocketPort } from "./socket_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkSocketPort(80, "Cannot connect", false), 80);
 * assert.throws(() => checkSocketPort(70000, "Cannot connect", false), RangeError);
 * assert.throws(() => checkSocketPort("80", "Cannot connect", false), TypeError);
 * ```
 */
export function checkSocketPort(port: unknown, action: string, allowZero: boolean): number {
  if (typeof port !== "number") {
    throw new TypeError(`${action}: port ${String(port)} is not a number`);
  }
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new RangeError(
      `${action}: port ${port} is not an integer in ${allowZero ? 0 : 1}..65535`,
    );
  }
  return port;
}
