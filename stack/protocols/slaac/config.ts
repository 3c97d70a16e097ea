/**
 * The `slaac` plugin's options, checked once at set-up (stack/validate.ts
 * policy: not a whole number → TypeError, out of range → RangeError), and
 * the `advertise` list of router mode.
 *
 * @module
 */
import type { OptionSpec } from "../../manifest.ts";
import { checkInteger } from "../../validate.ts";
import { IpAddress, type IpKey } from "../../wire/ip_address.ts";
import { maskIpv6 } from "../../wire/ipv6_scope.ts";

/** µs in a second. */
export const SECOND = 1_000_000;

/** The manifest's option table (defaults from RFC 4861 §10, RFC 7217 §7, radvd). */
export const SLAAC_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  addressGeneration: {
    default: "stable-privacy",
    description: "interface identifiers: stable-privacy (RFC 7217) or eui64 (RFC 4291 App. A)",
  },
  secret: {
    default: "",
    description: "RFC 7217 secret key, 32 hex digits (empty: drawn from the stack's RNG)",
  },
  idgenRetries: {
    default: 3,
    description: "new stable-privacy addresses tried after DAD failures (RFC 7217 IDGEN_RETRIES)",
  },
  acceptRa: { default: true, description: "process Router Advertisements on host interfaces" },
  autoconf: { default: true, description: "form addresses from autonomous prefixes (RFC 4862)" },
  routerSolicitations: {
    default: 3,
    description: "Router Solicitations sent at start (MAX_RTR_SOLICITATIONS)",
  },
  routerSolicitationInterval: {
    default: 4 * SECOND,
    description: "µs between Router Solicitations (RTR_SOLICITATION_INTERVAL)",
  },
  routerSolicitationDelay: {
    default: SECOND,
    description: "most µs before the first Router Solicitation (MAX_RTR_SOLICITATION_DELAY)",
  },
  maxRouters: { default: 8, description: "default routers remembered per interface" },
  maxPrefixes: { default: 16, description: "prefixes (on-link or autonomous) per interface" },
  advertise: {
    default: "",
    description: "router mode: prefixes to advertise, e.g. '2001:db8:1::/64@eth0, 2001:db8:2::/64'",
  },
  maxRtrAdvInterval: {
    default: 600 * SECOND,
    description: "router mode: most µs between unsolicited RAs (MaxRtrAdvInterval)",
  },
  minRtrAdvInterval: {
    default: 200 * SECOND,
    description: "router mode: least µs between unsolicited RAs (MinRtrAdvInterval)",
  },
  routerLifetime: {
    default: 1800,
    description: "router mode: Router Lifetime in s (0: not a default router)",
  },
  advertiseHopLimit: { default: 64, description: "router mode: Cur Hop Limit advertised" },
  advertiseMtu: {
    default: 0,
    description: "router mode: MTU option value (0: the interface's MTU; -1: no MTU option)",
  },
  validLifetime: { default: 86400, description: "router mode: prefixes' Valid Lifetime in s" },
  preferredLifetime: {
    default: 14400,
    description: "router mode: prefixes' Preferred Lifetime in s",
  },
};

/** One prefix to advertise. */
export interface AdvertisedPrefix {
  /** The prefix, bits past `length` zero. */
  readonly prefix: IpKey;
  /** Its length. */
  readonly length: number;
  /** The interface name it is for, or "" for every interface with a link layer. */
  readonly ifname: string;
}

/** The options, checked (see {@linkcode SLAAC_OPTIONS} for what each means; times in µs unless said). */
export interface SlaacConfig {
  /** How interface identifiers are made. */
  readonly addressGeneration: "stable-privacy" | "eui64";
  /** The RFC 7217 secret, 128 bits as four words, or null: drawn from the RNG. */
  readonly secret: readonly [number, number, number, number] | null;
  /** New stable-privacy addresses tried after DAD failures. */
  readonly idgenRetries: number;
  /** Whether host interfaces process RAs. */
  readonly acceptRa: boolean;
  /** Whether autonomous prefixes give addresses. */
  readonly autoconf: boolean;
  /** Router Solicitations sent at start. */
  readonly routerSolicitations: number;
  /** Between Router Solicitations. */
  readonly routerSolicitationInterval: number;
  /** Most delay before the first Router Solicitation. */
  readonly routerSolicitationDelay: number;
  /** Default routers per interface. */
  readonly maxRouters: number;
  /** Prefixes per interface (learned or advertised). */
  readonly maxPrefixes: number;
  /** Router mode: what to advertise. */
  readonly advertise: readonly AdvertisedPrefix[];
  /** Router mode: MaxRtrAdvInterval. */
  readonly maxRtrAdvInterval: number;
  /** Router mode: MinRtrAdvInterval. */
  readonly minRtrAdvInterval: number;
  /** Router mode: Router Lifetime in s. */
  readonly routerLifetime: number;
  /** Router mode: Cur Hop Limit. */
  readonly advertiseHopLimit: number;
  /** Router mode: MTU option (0: the interface's; -1: none). */
  readonly advertiseMtu: number;
  /** Router mode: Valid Lifetime in s. */
  readonly validLifetime: number;
  /** Router mode: Preferred Lifetime in s. */
  readonly preferredLifetime: number;
}

const ACTION = "Cannot set up slaac";

function bool(o: Readonly<Record<string, unknown>>, name: string): boolean {
  const v = o[name];
  if (typeof v !== "boolean") {
    throw new TypeError(`${ACTION}: ${name} ${String(v)} is not a boolean`);
  }
  return v;
}

function int(o: Readonly<Record<string, unknown>>, name: string, min: number, max: number): number {
  return checkInteger(o[name], min, max, ACTION, name);
}

/**
 * Parses one `advertise` entry, `prefix/length` or `prefix/length@ifname`.
 *
 * @throws {TypeError} When it does not parse.
 * @throws {RangeError} When the prefix is not a unicast IPv6 prefix of length 1..128, or link-local.
 *
 * @example
 * ```ts
 * import { parseAdvertisedPrefix } from "./config.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const p = parseAdvertisedPrefix("2001:db8:1::/64@eth0");
 * assert.equal(p.prefix, IpAddress.parse("2001:db8:1::")!.key);
 * assert.equal(p.length, 64);
 * assert.equal(p.ifname, "eth0");
 * assert.throws(() => parseAdvertisedPrefix("fe80::/64"), RangeError);
 * ```
 */
export function parseAdvertisedPrefix(text: string): AdvertisedPrefix {
  const at = text.indexOf("@");
  const cidr = (at >= 0 ? text.substring(0, at) : text).trim();
  const ifname = at >= 0 ? text.substring(at + 1).trim() : "";
  const slash = cidr.indexOf("/");
  const addr = slash >= 0 ? IpAddress.parse(cidr.substring(0, slash)) : null;
  const lenText = slash >= 0 ? cidr.substring(slash + 1) : "";
  if (addr === null || addr.family !== 6 || !/^[0-9]{1,3}$/.test(lenText) || (at >= 0 && !ifname)) {
    throw new TypeError(
      `${ACTION}: cannot parse advertised prefix "${text}": expected e.g. 2001:db8:1::/64@eth0`,
    );
  }
  const length = Number(lenText);
  if (length < 1 || length > 128) {
    throw new RangeError(`${ACTION}: prefix length ${length} of "${text}" is not in 1..128`);
  }
  if (addr.isMulticast() || addr.isLinkLocal()) {
    throw new RangeError(`${ACTION}: "${text}" is not a prefix a router may advertise`);
  }
  return { prefix: maskIpv6(addr.key, length), length, ifname };
}

function parseSecret(text: string): readonly [number, number, number, number] | null {
  if (text === "") return null;
  if (!/^[0-9a-fA-F]{32}$/.test(text)) {
    throw new RangeError(`${ACTION}: secret must be 32 hex digits (128 bits)`);
  }
  const w = (i: number) => parseInt(text.substring(i * 8, i * 8 + 8), 16) >>> 0;
  return [w(0), w(1), w(2), w(3)];
}

/**
 * The plugin's options (defaults merged), checked.
 *
 * @throws {TypeError} When an option has the wrong type or does not parse.
 * @throws {RangeError} When an option is out of range.
 *
 * @example
 * ```ts
 * import { parseSlaacConfig, SLAAC_OPTIONS } from "./config.ts";
 * import assert from "node:assert/strict";
 * const defaults = Object.fromEntries(Object.entries(SLAAC_OPTIONS).map(([k, v]) => [k, v.default]));
 * assert.equal(parseSlaacConfig(defaults).routerSolicitations, 3);
 * assert.throws(() => parseSlaacConfig({ ...defaults, routerSolicitations: 1.5 }), TypeError);
 * ```
 */
export function parseSlaacConfig(o: Readonly<Record<string, unknown>>): SlaacConfig {
  const gen = o.addressGeneration;
  if (gen !== "stable-privacy" && gen !== "eui64") {
    throw new TypeError(
      `${ACTION}: addressGeneration ${String(gen)} is not stable-privacy or eui64`,
    );
  }
  if (typeof o.secret !== "string") throw new TypeError(`${ACTION}: secret is not a string`);
  if (typeof o.advertise !== "string") throw new TypeError(`${ACTION}: advertise is not a string`);
  const advertise = o.advertise.split(",").map((s) => s.trim()).filter((s) => s !== "")
    .map(parseAdvertisedPrefix);
  const maxInterval = int(o, "maxRtrAdvInterval", 4 * SECOND, 1800 * SECOND);
  const minInterval = int(o, "minRtrAdvInterval", 3 * SECOND, 1800 * SECOND);
  if (minInterval > 0.75 * maxInterval) {
    // RFC 4861 §6.2.1: MinRtrAdvInterval at most 0.75 × MaxRtrAdvInterval.
    throw new RangeError(`${ACTION}: minRtrAdvInterval must be at most 0.75 × maxRtrAdvInterval`);
  }
  const maxPrefixes = int(o, "maxPrefixes", 1, 1024);
  const valid = int(o, "validLifetime", 0, 0xffffffff);
  const preferred = int(o, "preferredLifetime", 0, 0xffffffff);
  if (preferred > valid) {
    throw new RangeError(
      `${ACTION}: preferredLifetime ${preferred} exceeds validLifetime ${valid}`,
    );
  }
  const advertiseMtu = int(o, "advertiseMtu", -1, 0xffffffff);
  if (advertiseMtu > 0 && advertiseMtu < 1280) {
    throw new RangeError(`${ACTION}: advertiseMtu ${advertiseMtu} is below IPv6's 1280`);
  }
  return {
    addressGeneration: gen,
    secret: parseSecret(o.secret),
    idgenRetries: int(o, "idgenRetries", 0, 16),
    acceptRa: bool(o, "acceptRa"),
    autoconf: bool(o, "autoconf"),
    routerSolicitations: int(o, "routerSolicitations", 0, 255),
    routerSolicitationInterval: int(o, "routerSolicitationInterval", 1, 3600 * SECOND),
    routerSolicitationDelay: int(o, "routerSolicitationDelay", 0, 3600 * SECOND),
    maxRouters: int(o, "maxRouters", 1, 1024),
    maxPrefixes,
    advertise,
    maxRtrAdvInterval: maxInterval,
    minRtrAdvInterval: minInterval,
    routerLifetime: int(o, "routerLifetime", 0, 9000),
    advertiseHopLimit: int(o, "advertiseHopLimit", 0, 255),
    advertiseMtu,
    validLifetime: valid,
    preferredLifetime: preferred,
  };
}
