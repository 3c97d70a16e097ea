/**
 * Interface identifiers for the addresses the `slaac` plugin forms: stable,
 * semantically opaque ones by default (RFC 7217 §5, with the core's keyed
 * hash and a 128-bit secret), or the modified EUI-64 of the MAC (RFC 4291
 * Appendix A) as an option.
 *
 * @module
 */
import { KeyedHash } from "../../ip/keyed_hash.ts";
import type { Rng } from "../../rng.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import {
  eui64Address,
  type KeyedHash32,
  stablePrivacyAddress,
} from "../../wire/ipv6_interface_id.ts";

/** How interface identifiers are made. */
export type AddressGeneration = "stable-privacy" | "eui64";

/**
 * A stable number for an interface (RFC 7217's Net_Iface): FNV-1a of its
 * name, so it survives restarts and index changes.
 *
 * @example
 * ```ts
 * import { netIface } from "./identifiers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(netIface("eth0"), netIface("eth0"));
 * assert.notEqual(netIface("eth0"), netIface("eth1"));
 * ```
 */
export function netIface(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/**
 * The secret PRF of RFC 7217 §5: two HalfSipHash instances with
 * independent 64-bit keys, XORed, so the key is 128 bits as §5 asks.
 *
 * @example
 * ```ts
 * import { secretHash } from "./identifiers.ts";
 * import assert from "node:assert/strict";
 * const a = secretHash([1, 2, 3, 4]), b = secretHash([1, 2, 3, 4]);
 * assert.equal(a.hash(5, 6, 7, 8), b.hash(5, 6, 7, 8));
 * assert.notEqual(a.hash(5, 6, 7, 8), secretHash([1, 2, 3, 5]).hash(5, 6, 7, 8));
 * ```
 */
export function secretHash(
  secret: readonly [number, number, number, number] | Pick<Rng, "nextU32">,
): KeyedHash32 {
  const [h1, h2] = Array.isArray(secret)
    ? [KeyedHash.withKey(secret[0]!, secret[1]!), KeyedHash.withKey(secret[2]!, secret[3]!)]
    : [
      new KeyedHash(secret as Pick<Rng, "nextU32">),
      new KeyedHash(secret as Pick<Rng, "nextU32">),
    ];
  return {
    hash: (a, b, c, d) => (h1.hash(a, b, c, d) ^ h2.hash(a, b, c, d)) >>> 0,
  };
}

/** Makes the interface identifiers of one stack. */
export class InterfaceIds {
  readonly #mode: AddressGeneration;
  readonly #hash: KeyedHash32;

  /** Identifiers made by `mode`, stable-privacy ones with `hash`. */
  constructor(mode: AddressGeneration, hash: KeyedHash32) {
    this.#mode = mode;
    this.#hash = hash;
  }

  /** How identifiers are made. */
  get mode(): AddressGeneration {
    return this.#mode;
  }

  /**
   * The address of the /64 `prefix` for the interface `ifname` with `mac`,
   * at DAD attempt `dadCounter` (RFC 7217 §6; EUI-64 has only one).
   * Null when EUI-64 is asked for and the interface has no MAC.
   *
   * @example
   * ```ts
   * import { InterfaceIds, secretHash } from "./identifiers.ts";
   * import { IpAddress } from "../../wire/ip_address.ts";
   * import assert from "node:assert/strict";
   * const prefix = IpAddress.parse("fe80::")!.key;
   * const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
   * const eui = new InterfaceIds("eui64", secretHash([1, 2, 3, 4]));
   * assert.equal(IpAddress.fromKey(eui.address(prefix, "eth0", mac, 0)!).toString(), "fe80::ff:fe00:1");
   * const sp = new InterfaceIds("stable-privacy", secretHash([1, 2, 3, 4]));
   * assert.notEqual(sp.address(prefix, "eth0", mac, 0), sp.address(prefix, "eth0", mac, 1));
   * ```
   */
  address(prefix: IpKey, ifname: string, mac: Uint8Array | null, dadCounter: number): IpKey | null {
    if (this.#mode === "eui64") return mac === null ? null : eui64Address(prefix, mac);
    return stablePrivacyAddress(prefix, { hash: this.#hash, iface: netIface(ifname), dadCounter });
  }
}
