/**
 * The argument check ARP's and NDP's services share for a static entry
 * (`addStatic`, as `ip neigh add ... nud permanent`), whose address check
 * is the family's own.
 *
 * Arguments are checked in order, as everywhere in the stack: the first
 * bad one is the one reported. For `addStatic` that is the interface
 * (a whole number, then one that exists), then the address, then the MAC.
 *
 * @module
 */
import { checkInterfaceIndex, type InterfaceTable } from "../netif.ts";
import { checkNeighborMac } from "../validate.ts";

/** The start of every `addStatic` error message. */
export const ADD_STATIC_ACTION = "Cannot add static neighbour";

/** The arguments of a static neighbour, and the family's address check. */
export interface StaticNeighborArgs {
  /** The interface index. */
  readonly ifindex: unknown;
  /** The neighbour's address, as the family keys it. */
  readonly address: unknown;
  /** Its link-layer address. */
  readonly mac: unknown;
  /**
   * Throws, with `action` at the start of the message, when `address` is
   * not a unicast address of the family.
   */
  readonly checkAddress: (address: unknown, action: string) => void;
}

/**
 * Checks a static neighbour's arguments in order, the first bad one
 * throwing: the interface (`checkInterfaceIndex`), then the
 * address (the family's `checkAddress`), then the MAC (`checkNeighborMac`:
 * six bytes, not a group address). Every message starts with
 * {@linkcode ADD_STATIC_ACTION}.
 *
 * @throws {TypeError} An argument of the wrong type.
 * @throws {RangeError} No such interface, not a unicast address, or a MAC
 * not of six bytes or a group one.
 *
 * @example
 * ```ts
 * import { checkStaticNeighbor } from "./neighbor_checks.ts";
 * import { InterfaceTable } from "../netif.ts";
 * import assert from "node:assert/strict";
 * function checkAddress(a: unknown, action: string): void {
 *   if (typeof a !== "number") throw new TypeError(`${action}: the address is not IPv4`);
 * }
 * // No interface 0 and a bad MAC: the interface, checked first, is reported.
 * assert.throws(
 *   () => checkStaticNeighbor(new InterfaceTable(), { ifindex: 0, address: 1, mac: null, checkAddress }),
 *   RangeError,
 *   "Cannot add static neighbour: no interface 0",
 * );
 * ```
 */
export function checkStaticNeighbor(interfaces: InterfaceTable, args: StaticNeighborArgs): void {
  checkInterfaceIndex(interfaces, args.ifindex, ADD_STATIC_ACTION);
  args.checkAddress(args.address, ADD_STATIC_ACTION);
  checkNeighborMac(args.mac, ADD_STATIC_ACTION);
}
