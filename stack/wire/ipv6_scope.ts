/**
 * IPv6 addresses as {@linkcode IpKey}s (8-unit strings of 16-bit groups):
 * scopes (RFC 4291 §2.5.6, §2.7; RFC 6724 §3.1), the solicited-node group
 * and the Ethernet multicast MAC of a group (RFC 4291 §2.7.1, RFC 2464 §7),
 * the RFC 6724 default policy table, and source address selection by RFC
 * 6724 §5 as a pure function over candidates. Nothing here allocates
 * except where a new key is returned.
 *
 * @module
 */
import type { IpKey } from "./ip_address.ts";

/**
 * Address scopes (RFC 4291 §2.7 multicast scope values; unicast scopes as
 * RFC 6724 §3.1 maps them). Larger is wider.
 *
 * @example
 * ```ts
 * import { Ipv6Scope } from "./ipv6_scope.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Ipv6Scope.LINK_LOCAL < Ipv6Scope.GLOBAL);
 * ```
 */
export const Ipv6Scope = {
  /** Interface-local (multicast ff01::/16). */
  INTERFACE_LOCAL: 1,
  /** Link-local: fe80::/10, ::1, ff02::/16. */
  LINK_LOCAL: 2,
  /** Admin-local (multicast ff04::/16). */
  ADMIN_LOCAL: 4,
  /** Site-local: deprecated fec0::/10 (RFC 3879), ff05::/16. */
  SITE_LOCAL: 5,
  /** Organization-local (multicast ff08::/16). */
  ORGANIZATION_LOCAL: 8,
  /** Global: everything else. */
  GLOBAL: 14,
} as const;

function w(k: IpKey, i: number): number {
  return (k as string).charCodeAt(i);
}

/**
 * The scope of an IPv6 address (RFC 6724 §3.1): a multicast address's
 * scope field; link-local for fe80::/10 and the loopback address;
 * site-local for fec0::/10; global otherwise (unique local fc00::/7
 * included, as RFC 6724 §3.1 says). IPv4-mapped addresses take the scope
 * of their IPv4 address (§3.2: 127/8 and 169.254/16 link-local).
 *
 * @example
 * ```ts
 * import { ipv6Scope, Ipv6Scope } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6Scope(IpAddress.parse("fe80::1")!.key), Ipv6Scope.LINK_LOCAL);
 * assert.equal(ipv6Scope(IpAddress.parse("ff05::2")!.key), Ipv6Scope.SITE_LOCAL);
 * assert.equal(ipv6Scope(IpAddress.parse("2001:db8::1")!.key), Ipv6Scope.GLOBAL);
 * ```
 */
export function ipv6Scope(key: IpKey): number {
  const w0 = w(key, 0);
  if ((w0 >> 8) === 0xff) return w0 & 0x0f;
  if ((w0 & 0xffc0) === 0xfe80) return Ipv6Scope.LINK_LOCAL;
  if ((w0 & 0xffc0) === 0xfec0) return Ipv6Scope.SITE_LOCAL;
  if (w0 === 0 && w(key, 1) === 0 && w(key, 2) === 0 && w(key, 3) === 0 && w(key, 4) === 0) {
    const w5 = w(key, 5);
    const w6 = w(key, 6);
    if (w5 === 0 && w6 === 0 && w(key, 7) === 1) return Ipv6Scope.LINK_LOCAL; // ::1
    if (w5 === 0xffff && ((w6 >> 8) === 127 || w6 === 0xa9fe)) return Ipv6Scope.LINK_LOCAL;
  }
  return Ipv6Scope.GLOBAL;
}

/**
 * The solicited-node multicast group of `key`: ff02::1:ff00:0/104 plus its
 * low 24 bits (RFC 4291 §2.7.1), which NDP solicits and DAD probes.
 *
 * @example
 * ```ts
 * import { solicitedNodeKey } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   solicitedNodeKey(IpAddress.parse("2001:db8:1:2::1000")!.key),
 *   IpAddress.parse("ff02::1:ff00:1000")!.key,
 * );
 * ```
 */
export function solicitedNodeKey(key: IpKey): IpKey {
  return String.fromCharCode(0xff02, 0, 0, 0, 0, 1, 0xff00 | (w(key, 6) & 0xff), w(key, 7));
}

/**
 * Whether `key` is a solicited-node group (ff02::1:ff00:0/104).
 *
 * @example
 * ```ts
 * import { isSolicitedNodeKey } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isSolicitedNodeKey(IpAddress.parse("ff02::1:ff00:1000")!.key));
 * assert.ok(!isSolicitedNodeKey(IpAddress.parse("ff02::1")!.key));
 * ```
 */
export function isSolicitedNodeKey(key: IpKey): boolean {
  return w(key, 0) === 0xff02 && w(key, 1) === 0 && w(key, 2) === 0 && w(key, 3) === 0 &&
    w(key, 4) === 0 && w(key, 5) === 1 && (w(key, 6) >> 8) === 0xff;
}

/**
 * Writes the Ethernet destination of the IPv6 multicast group `key` into
 * `out` at `at`: 33:33 and the group's last 32 bits (RFC 2464 §7). Hot
 * path: positional, no allocation.
 *
 * @example
 * ```ts
 * import { writeIpv6MulticastMac } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const mac = new Uint8Array(6);
 * writeIpv6MulticastMac(IpAddress.parse("ff02::1:ff00:1000")!.key, mac, 0);
 * assert.deepEqual([...mac], [0x33, 0x33, 0xff, 0x00, 0x10, 0x00]);
 * ```
 */
export function writeIpv6MulticastMac(key: IpKey, out: Uint8Array, at: number): void {
  const w6 = w(key, 6);
  const w7 = w(key, 7);
  out[at] = 0x33;
  out[at + 1] = 0x33;
  out[at + 2] = w6 >> 8;
  out[at + 3] = w6;
  out[at + 4] = w7 >> 8;
  out[at + 5] = w7;
}

/**
 * The length of the longest common prefix of two IPv6 keys, 0..128.
 *
 * @example
 * ```ts
 * import { commonPrefixLength } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const k = (s: string) => IpAddress.parse(s)!.key;
 * assert.equal(commonPrefixLength(k("2001:db8::1"), k("2001:db8::1")), 128);
 * assert.equal(commonPrefixLength(k("2001:db8::"), k("2001:db9::")), 31);
 * ```
 */
export function commonPrefixLength(a: IpKey, b: IpKey): number {
  for (let i = 0; i < 8; i++) {
    const x = w(a, i) ^ w(b, i);
    if (x !== 0) return i * 16 + Math.clz32(x) - 16;
  }
  return 128;
}

/**
 * Whether `key` lies in `prefix`/`length`.
 *
 * @example
 * ```ts
 * import { inIpv6Prefix } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const k = (s: string) => IpAddress.parse(s)!.key;
 * assert.ok(inIpv6Prefix(k("2001:db8:1::5"), k("2001:db8::"), 32));
 * assert.ok(!inIpv6Prefix(k("2001:db9::5"), k("2001:db8::"), 32));
 * ```
 */
export function inIpv6Prefix(key: IpKey, prefix: IpKey, length: number): boolean {
  return length === 0 || commonPrefixLength(key, prefix) >= length;
}

/**
 * `key` with the bits past `length` cleared (the network of a prefix).
 *
 * @example
 * ```ts
 * import { maskIpv6 } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const k = (s: string) => IpAddress.parse(s)!.key;
 * assert.equal(maskIpv6(k("2001:db8:1:2:3::1"), 48), k("2001:db8:1::"));
 * ```
 */
export function maskIpv6(key: IpKey, length: number): IpKey {
  let out = "";
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, length - 16 * i));
    out += String.fromCharCode(w(key, i) & (bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff));
  }
  return out;
}

/** One row of the RFC 6724 policy table. */
interface Policy {
  readonly prefix: IpKey;
  readonly length: number;
  readonly precedence: number;
  readonly label: number;
}

function key(...words: number[]): IpKey {
  while (words.length < 8) words.push(0);
  return String.fromCharCode(...words);
}

/** RFC 6724 §2.1, longest prefix first. */
const POLICY: readonly Policy[] = [
  { prefix: key(0, 0, 0, 0, 0, 0, 0, 1), length: 128, precedence: 50, label: 0 },
  { prefix: key(0, 0, 0, 0, 0, 0xffff), length: 96, precedence: 35, label: 4 },
  { prefix: key(), length: 96, precedence: 1, label: 3 },
  { prefix: key(0x2001), length: 32, precedence: 5, label: 5 },
  { prefix: key(0x2002), length: 16, precedence: 30, label: 2 },
  { prefix: key(0x3ffe), length: 16, precedence: 1, label: 12 },
  { prefix: key(0xfec0), length: 10, precedence: 1, label: 11 },
  { prefix: key(0xfc00), length: 7, precedence: 3, label: 13 },
  { prefix: key(), length: 0, precedence: 40, label: 1 },
];

function policyOf(k: IpKey): Policy {
  for (const p of POLICY) if (inIpv6Prefix(k, p.prefix, p.length)) return p;
  return POLICY[POLICY.length - 1]!;
}

/**
 * The label of `key` in the default policy table (RFC 6724 §2.1).
 *
 * @example
 * ```ts
 * import { ipv6PolicyLabel } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6PolicyLabel(IpAddress.parse("2002::1")!.key), 2); // 6to4
 * assert.equal(ipv6PolicyLabel(IpAddress.parse("fd00::1")!.key), 13); // ULA
 * ```
 */
export function ipv6PolicyLabel(key: IpKey): number {
  return policyOf(key).label;
}

/**
 * The precedence of `key` in the default policy table (RFC 6724 §2.1),
 * for destination address ordering.
 *
 * @example
 * ```ts
 * import { ipv6PolicyPrecedence } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6PolicyPrecedence(IpAddress.parse("::1")!.key), 50);
 * assert.equal(ipv6PolicyPrecedence(IpAddress.parse("2001:db8::1")!.key), 40);
 * ```
 */
export function ipv6PolicyPrecedence(key: IpKey): number {
  return policyOf(key).precedence;
}

/** A source address {@linkcode selectIpv6Source} may choose. */
export interface SourceCandidate {
  /** The address (usable: DAD done, not tentative or duplicated; the caller filters those). */
  readonly address: IpKey;
  /** Interface it is assigned to. */
  readonly ifindex: number;
  /** Its prefix length (for rule 8, the common prefix counts only up to it; default 64). */
  readonly prefixLength?: number;
  /** Its preferred lifetime has passed (RFC 4862 §5.5.4). */
  readonly deprecated?: boolean;
}

/** Whether candidate `a` is better than `b` for `dst` (RFC 6724 §5, rules 1, 2, 3, 5, 6, 8). */
function better(
  a: SourceCandidate,
  b: SourceCandidate,
  dst: IpKey,
  dstScope: number,
  dstLabel: number,
  outIfindex: number,
): boolean {
  // Rule 1: prefer the destination itself.
  if (a.address === dst) return true;
  if (b.address === dst) return false;
  // Rule 2: prefer the appropriate scope.
  const sa = ipv6Scope(a.address);
  const sb = ipv6Scope(b.address);
  if (sa < sb) return sa >= dstScope;
  if (sb < sa) return sb < dstScope;
  // Rule 3: avoid deprecated addresses.
  const da = a.deprecated === true;
  const db = b.deprecated === true;
  if (da !== db) return db;
  // Rule 5: prefer the outgoing interface.
  const ia = a.ifindex === outIfindex;
  const ib = b.ifindex === outIfindex;
  if (ia !== ib) return ia;
  // Rule 6: prefer a matching label.
  const la = ipv6PolicyLabel(a.address) === dstLabel;
  const lb = ipv6PolicyLabel(b.address) === dstLabel;
  if (la !== lb) return la;
  // Rule 8: longest matching prefix, counted up to each address's prefix length.
  const pa = Math.min(commonPrefixLength(a.address, dst), a.prefixLength ?? 64);
  const pb = Math.min(commonPrefixLength(b.address, dst), b.prefixLength ?? 64);
  return pa > pb;
}

/**
 * The source address for `destination` among `candidates` by RFC 6724 §5:
 * rule 1 (the destination itself), 2 (appropriate scope), 3 (avoid
 * deprecated), 5 (the outgoing interface `outIfindex`), 6 (matching
 * label, default policy table) and 8 (longest matching prefix); rules 4
 * (home addresses) and 7 (temporary addresses) do not apply to this stack.
 * Ties keep the earlier candidate. Candidates of a smaller scope than the
 * destination's that are link-local are still allowed, as the RFC does;
 * the caller keeps link-local sources on their own link.
 *
 * @returns The best candidate, or null when there is none.
 *
 * @example
 * ```ts
 * import { selectIpv6Source } from "./ipv6_scope.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const k = (s: string) => IpAddress.parse(s)!.key;
 * const candidates = [
 *   { address: k("fe80::1"), ifindex: 1 },
 *   { address: k("2001:db8::1"), ifindex: 1 },
 * ];
 * assert.equal(selectIpv6Source(k("2001:db8:5::9"), candidates, 1)?.address, k("2001:db8::1"));
 * assert.equal(selectIpv6Source(k("fe80::9"), candidates, 1)?.address, k("fe80::1"));
 * ```
 */
export function selectIpv6Source<C extends SourceCandidate>(
  destination: IpKey,
  candidates: readonly C[],
  outIfindex: number,
): C | null {
  let best: C | null = null;
  const dstScope = ipv6Scope(destination);
  const dstLabel = ipv6PolicyLabel(destination);
  for (const c of candidates) {
    if (best === null || better(c, best, destination, dstScope, dstLabel, outIfindex)) best = c;
  }
  return best;
}
