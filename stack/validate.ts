/**
 * Argument checks of the public API, run before any state is created (issue
 * 16.9): a bad argument throws `TypeError` (wrong type) or `RangeError`
 * (a value out of range), as Deno's own APIs do, and leaves the stack as it
 * was.
 *
 * @module
 */
import { MILLISECOND } from "./clock.ts";
import { parseIpv4Cidr, parseIpv6Cidr } from "./wire/address.ts";

/** The smallest IPv4 MTU (RFC 791: every module must forward 68 octets). */
export const MIN_IPV4_MTU = 68;
/** The largest MTU an interface may have (the IPv4 total length field). */
export const MAX_MTU = 65535;

/**
 * `String(value)` for a message, which never throws (an object without
 * `toString`, such as `Object.create(null)`, made String() throw "Cannot
 * convert object to primitive value", naming no call) and shows a bigint
 * as one (`80n`: "port 80 is not an integer" read as nonsense).
 *
 * @example
 * ```ts
 * import { shownText } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(shownText("10.0.0.2"), "10.0.0.2");
 * assert.equal(shownText(80n), "80n");
 * assert.equal(shownText(Object.create(null)), "(an object without toString)");
 * ```
 */
export function shownText(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  try {
    return String(value);
  } catch {
    return "(an object without toString)";
  }
}

/**
 * A value that is not the number asked for, as a message shows it: a
 * string quoted (`port "80" is not an integer`, not `port 80 …`), anything
 * else as {@linkcode shownText}.
 *
 * @example
 * ```ts
 * import { shownValue } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(shownValue("80"), '"80"');
 * assert.equal(shownValue(80n), "80n");
 * ```
 */
export function shownValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : shownText(value);
}

/**
 * Checks that `value` is an integer in `min..max`. The one policy for number
 * arguments, shared with the socket adapters (`stack/sockets/errors.ts`) and
 * taken from Deno's own APIs: not a number, NaN or not whole → `TypeError`
 * (as `Deno.listen({ port: 1.5 })`), a whole number out of range →
 * `RangeError`.
 *
 * @returns `value`.
 * @throws {TypeError} When it is not a number, NaN, or not an integer.
 * @throws {RangeError} When it is out of the range.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkInteger(64, 1, 255, "Cannot ping", "ttl"), 64);
 * assert.throws(() => checkInteger(256, 1, 255, "Cannot ping", "ttl"), RangeError);
 * assert.throws(() => checkInteger("1", 1, 255, "Cannot ping", "ttl"), TypeError);
 * assert.throws(() => checkInteger(1.5, 1, 255, "Cannot ping", "ttl"), TypeError);
 * ```
 */
export function checkInteger(
  value: unknown,
  min: number,
  max: number,
  action: string,
  name: string,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${action}: ${name} ${shownValue(value)} is not an integer`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${action}: ${name} ${value} is not in ${min}..${max}`);
  }
  return value;
}

/**
 * Checks that `value` is a number (not NaN) in `min..max` (default: any
 * finite number from `min`): not a number or NaN → `TypeError`, out of range
 * or infinite → `RangeError` (the policy of {@linkcode checkInteger}).
 *
 * @returns `value`.
 * @throws {TypeError} When it is not a number, or NaN.
 * @throws {RangeError} When it is out of range, or infinite.
 *
 * @example
 * ```ts
 * import { checkNumber } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkNumber(5, 0, Number.MAX_VALUE, "Cannot connect", "timeout"), 5);
 * assert.throws(() => checkNumber(NaN, 0, 10, "Cannot connect", "timeout"), TypeError);
 * assert.throws(() => checkNumber(-1, 0, 10, "Cannot connect", "timeout"), RangeError);
 * ```
 */
export function checkNumber(
  value: unknown,
  min: number,
  max: number,
  action: string,
  name: string,
): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${action}: ${name} ${shownValue(value)} is not a number`);
  }
  if (!(value >= min && value <= max)) {
    throw new RangeError(`${action}: ${name} ${value} is not in ${min}..${max}`);
  }
  return value;
}

/**
 * The largest time a public option takes, in milliseconds: `setTimeout`'s
 * (2^31 - 1, about 24.8 days), so no option waits longer than a timer could.
 */
export const MAX_MILLIS = 2_147_483_647;

/**
 * Checks a time a user passes (a timeout, an idle time): milliseconds, as
 * every public time value of the stack, its sockets and its probes is
 * (`setTimeout`'s unit; fractions allowed: 1.5 is 1,500 µs), and converts it
 * to the stack's own unit, microseconds. The one check and the one wording
 * for the same mistake everywhere: not a number or NaN → `TypeError`
 * ("timeout NaN is not a number"), negative, infinite or above
 * {@linkcode MAX_MILLIS} → `RangeError` ("timeout -1 is not in
 * 0..2147483647 ms").
 *
 * @param value The value given.
 * @param action What was attempted, the start of the message (`Cannot ping 10.0.0.2`).
 * @param name The option's name (`timeout`).
 * @param min The least allowed, ms (default 0).
 * @returns The time in microseconds (a whole number).
 * @throws {TypeError} When it is not a number, or NaN.
 * @throws {RangeError} When it is below `min`, above {@linkcode MAX_MILLIS}, or infinite.
 *
 * @example
 * ```ts
 * import { checkMillis } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkMillis(1.5, "Cannot connect", "timeout"), 1_500);
 * assert.throws(() => checkMillis(NaN, "Cannot connect", "timeout"), TypeError);
 * assert.throws(() => checkMillis(-1, "Cannot connect", "timeout"), {
 *   name: "RangeError",
 *   message: "Cannot connect: timeout -1 is not in 0..2147483647 ms",
 * });
 * assert.throws(() => checkMillis(Infinity, "Cannot connect", "timeout"), RangeError);
 * ```
 */
export function checkMillis(value: unknown, action: string, name: string, min = 0): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${action}: ${name} ${shownValue(value)} is not a number`);
  }
  if (!(value >= min && value <= MAX_MILLIS)) {
    throw new RangeError(`${action}: ${name} ${value} is not in ${min}..${MAX_MILLIS} ms`);
  }
  return Math.round(value * MILLISECOND);
}

/**
 * Checks an interface MTU: an integer in 68..65535 (RFC 791 §3.2: 68 is the
 * least every IPv4 link must carry).
 *
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When out of range.
 *
 * @example
 * ```ts
 * import { checkMtu } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkMtu(1500, "Cannot add interface"), 1500);
 * assert.throws(() => checkMtu(67, "Cannot add interface"), RangeError);
 * ```
 */
export function checkMtu(mtu: unknown, action: string): number {
  return checkInteger(mtu, MIN_IPV4_MTU, MAX_MTU, action, "MTU");
}

/**
 * Checks an interface's own MAC address: six bytes, not a group
 * (multicast/broadcast) address, not all zeros (IEEE 802: an individual
 * address).
 *
 * @throws {TypeError} When it is not a Uint8Array.
 * @throws {RangeError} When it is not six bytes or not an individual address.
 *
 * @example
 * ```ts
 * import { checkMac } from "./validate.ts";
 * import assert from "node:assert/strict";
 * checkMac(new Uint8Array([2, 0, 0, 0, 0, 1]), "Cannot add interface");
 * assert.throws(() => checkMac(new Uint8Array(5), "Cannot add interface"), RangeError);
 * assert.throws(() => checkMac(new Uint8Array([1, 0, 0x5e, 0, 0, 1]), "Cannot add interface"), RangeError);
 * ```
 */
export function checkMac(mac: unknown, action: string): void {
  checkNeighborMac(mac, action);
  if ((mac as Uint8Array).every((b) => b === 0)) {
    throw new RangeError(`${action}: the MAC is all zeros`);
  }
}

/**
 * Checks a neighbour's MAC address (a static ARP or NDP entry): six bytes,
 * not a group (multicast/broadcast) address. All zeros is allowed, as
 * Linux's `ip neigh` allows it: captures with zeroed MACs are replayed so.
 *
 * @throws {TypeError} When it is not a Uint8Array.
 * @throws {RangeError} When it is not six bytes or a group address.
 *
 * @example
 * ```ts
 * import { checkNeighborMac } from "./validate.ts";
 * import assert from "node:assert/strict";
 * checkNeighborMac(new Uint8Array(6), "Cannot add static neighbour");
 * assert.throws(() => checkNeighborMac(new Uint8Array(3), "Cannot add static neighbour"), RangeError);
 * assert.throws(() => checkNeighborMac([2, 0, 0, 0, 0, 1], "Cannot add static neighbour"), TypeError);
 * ```
 */
export function checkNeighborMac(mac: unknown, action: string): void {
  if (!(mac instanceof Uint8Array)) throw new TypeError(`${action}: the MAC is not a Uint8Array`);
  if (mac.length !== 6) throw new RangeError(`${action}: the MAC has ${mac.length} bytes, not 6`);
  if ((mac[0]! & 1) !== 0) {
    throw new RangeError(`${action}: the MAC is a group (multicast or broadcast) address`);
  }
}

/**
 * Checks that `cidr` is an address one host may hold, as Linux's
 * `inet_rtm_newaddr()` and RFC 1122 §3.2.1.3 allow: IPv4 not in 0/8,
 * not multicast (224/4) or reserved
 * (240/4, with 255.255.255.255), not the broadcast or network address of
 * its own subnet (prefix below 31); IPv6 not unspecified or multicast.
 *
 * @throws {TypeError} When it does not parse as CIDR.
 * @throws {RangeError} When it is not a host address.
 *
 * @example
 * ```ts
 * import { checkHostCidr } from "./validate.ts";
 * import assert from "node:assert/strict";
 * checkHostCidr("10.0.0.1/24", "Cannot add address");
 * assert.throws(() => checkHostCidr("224.0.0.1/4", "Cannot add address"), RangeError);
 * assert.throws(() => checkHostCidr("10.0.0.255/24", "Cannot add address"), RangeError);
 * ```
 */
export function checkHostCidr(cidr: unknown, action: string): void {
  if (typeof cidr !== "string") {
    throw new TypeError(`${action}: address ${shownText(cidr)} is not a string`);
  }
  const v4 = parseIpv4Cidr(cidr);
  if (v4 !== null) {
    const a = v4.address;
    const top = a >>> 24;
    const p = v4.prefixLength;
    const m = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
    let why = "";
    if (top === 0) why = "in 0.0.0.0/8 (this network)";
    else if (top >= 224) why = top >= 240 ? "reserved (240/4) or broadcast" : "multicast";
    else if (p < 31 && ((a | m) >>> 0) === 0xffffffff) why = "its subnet's broadcast address";
    else if (p < 31 && (a & ~m) === 0) why = "its subnet's network address";
    if (why !== "") throw new RangeError(`${action}: ${cidr} is not a host address: ${why}`);
    return;
  }
  const v6 = parseIpv6Cidr(cidr);
  if (v6 !== null) {
    if (v6.address[0] === 0xff) {
      throw new RangeError(`${action}: ${cidr} is not a host address: multicast`);
    }
    if (v6.address.every((b) => b === 0)) {
      throw new RangeError(`${action}: ${cidr} is not a host address: unspecified`);
    }
    return;
  }
  throw new TypeError(`Cannot parse address "${cidr}": expected CIDR such as 10.0.0.2/24`);
}

/** The options {@linkcode checkProbeOptions} checks (those of ping and traceroute). */
export interface ProbeOptionsLike {
  /** Data length. */
  readonly size?: number;
  /** Milliseconds to wait. */
  readonly timeout?: number;
  /** IP TTL. */
  readonly ttl?: number;
  /** Echo identifier. */
  readonly identifier?: number;
  /** Echo sequence number. */
  readonly sequence?: number;
}

/**
 * Checks the options of a ping or a traceroute probe: `size` 0..65507 (the
 * largest ICMP or UDP payload in one IPv4 datagram), `timeout` a finite
 * number of milliseconds (see {@linkcode checkMillis}), `ttl` 1..255, `identifier` and `sequence` 0..65535.
 *
 * @throws {TypeError} When one is not a number.
 * @throws {RangeError} When one is out of range.
 *
 * @example
 * ```ts
 * import { checkProbeOptions } from "./validate.ts";
 * import assert from "node:assert/strict";
 * checkProbeOptions({ timeout: 1000, ttl: 64 }, "Cannot ping 10.0.0.2");
 * assert.throws(() => checkProbeOptions({ timeout: NaN }, "Cannot ping 10.0.0.2"), TypeError);
 * assert.throws(() => checkProbeOptions({ ttl: 256 }, "Cannot ping 10.0.0.2"), RangeError);
 * ```
 */
export function checkProbeOptions(o: ProbeOptionsLike, action: string): void {
  if (o.size !== undefined) checkInteger(o.size, 0, 65507, action, "size");
  if (o.timeout !== undefined) checkMillis(o.timeout, action, "timeout");
  if (o.ttl !== undefined) checkInteger(o.ttl, 1, 255, action, "ttl");
  if (o.identifier !== undefined) checkInteger(o.identifier, 0, 0xffff, action, "identifier");
  if (o.sequence !== undefined) checkInteger(o.sequence, 0, 0xffff, action, "sequence");
}
