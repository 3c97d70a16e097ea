/**
 * NAT rules, like iptables' nat table: what a rule matches (interfaces,
 * source and destination prefixes, protocol, ports) and what it does
 * (SNAT to an address or range, MASQUERADE, DNAT, REDIRECT), as objects
 * and in a one-line text form for stack manifests and the command line:
 *
 * ```
 * masquerade -o eth1
 * snat -s 10.1.0.0/24 -o eth1 --to 203.0.113.1-203.0.113.4
 * dnat -i eth1 -p tcp --dport 8080 --to 10.1.0.5:80
 * dnat --dst-type local -p tcp --dport 8080 --to 10.1.0.5:80
 * redirect -p tcp --dport 80 --to 8080
 * ```
 *
 * @module
 */
import { formatIpv4Address, parseIpv4Address, parseIpv4Cidr } from "../../wire/address.ts";

/** What a rule does. */
export type NatAction = "snat" | "masquerade" | "dnat" | "redirect";

/** Protocols a rule can name. */
export type NatProtocol = "tcp" | "udp" | "icmp";

/**
 * One NAT rule. `snat`/`masquerade` apply where the source is translated
 * (postrouting, and input for rules without `outIface`), `dnat`/`redirect`
 * where the destination is (prerouting, and output for rules without
 * `inIface`). Only a flow's first packet is matched; the rest follow it.
 *
 * @example
 * ```ts
 * import type { NatRule } from "./rules.ts";
 * const forward: NatRule = { action: "dnat", inIface: "eth1", protocol: "tcp", dstPort: 8080, to: "10.1.0.5:80" };
 * console.log(forward.to);
 * ```
 */
export interface NatRule {
  /** What it does. */
  readonly action: NatAction;
  /** Interface the packet came in by (`-i`). */
  readonly inIface?: string;
  /** Interface it leaves by (`-o`). */
  readonly outIface?: string;
  /** Source address or prefix (`-s`). */
  readonly source?: string;
  /** Destination address or prefix (`-d`). */
  readonly destination?: string;
  /**
   * `"local"`: only packets to one of this host's own addresses (iptables'
   * `-m addrtype --dst-type LOCAL`), so a port forward takes no transit
   * traffic or connections the host makes to other hosts (`--dst-type`;
   * dnat/redirect).
   */
  readonly dstType?: "local";
  /** Protocol (`-p`). */
  readonly protocol?: NatProtocol;
  /** Source port or `lo-hi` range (`--sport`; TCP/UDP). */
  readonly srcPort?: number | string;
  /** Destination port or range (`--dport`; TCP/UDP). */
  readonly dstPort?: number | string;
  /**
   * `snat`: `addr[-addr][:port[-port]]`; `dnat`: `addr[:port]`;
   * `redirect`: a port; `masquerade`: optional `:port-port`.
   */
  readonly to?: string;
}

/** A rule with its fields parsed for matching. */
export interface CompiledRule {
  readonly rule: NatRule;
  readonly action: NatAction;
  readonly inIface: string | null;
  readonly outIface: string | null;
  readonly srcNet: number;
  readonly srcMask: number;
  readonly dstNet: number;
  readonly dstMask: number;
  /** Only to this host's own addresses (checked by the caller: `ruleMatches` cannot know them). */
  readonly dstLocal: boolean;
  /** IP protocol number, or -1 for any. */
  readonly protocol: number;
  readonly srcPortLo: number;
  readonly srcPortHi: number;
  readonly dstPortLo: number;
  readonly dstPortHi: number;
  /** Translation addresses (first..last), 0/0 when taken from elsewhere. */
  readonly toAddrLo: number;
  readonly toAddrHi: number;
  /** Translation ports (first..last), 0/0 to keep the port. */
  readonly toPortLo: number;
  readonly toPortHi: number;
}

const PROTOCOLS: Readonly<Record<NatProtocol, number>> = { tcp: 6, udp: 17, icmp: 1 };
const ACTIONS: readonly NatAction[] = ["snat", "masquerade", "dnat", "redirect"];

function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

function prefix(text: string | undefined, what: string): [number, number] {
  if (text === undefined) return [0, 0];
  if (typeof text !== "string") throw new TypeError(`Cannot use NAT rule: ${what} is not a string`);
  const c = parseIpv4Cidr(text.includes("/") ? text : `${text}/32`);
  if (c === null) {
    throw new TypeError(`Cannot use NAT rule: ${what} "${text}" is not an IPv4 prefix`);
  }
  const m = mask(c.prefixLength);
  return [(c.address & m) >>> 0, m];
}

function portRange(v: number | string | undefined, what: string): [number, number] {
  if (v === undefined) return [0, 65535];
  const [lo, hi] = typeof v === "number" ? [v, v] : v.split("-").map((x) => Number(x)) as [
    number,
    number | undefined,
  ];
  const h = hi ?? lo;
  if (!Number.isInteger(lo) || !Number.isInteger(h)) {
    throw new TypeError(`Cannot use NAT rule: ${what} "${v}" is not a port or range`);
  }
  if (lo < 1 || h > 65535 || lo > h) {
    throw new RangeError(`Cannot use NAT rule: ${what} "${v}" is not within 1..65535`);
  }
  return [lo, h];
}

function address(text: string, what: string): number {
  const a = parseIpv4Address(text);
  if (a === null) {
    throw new TypeError(`Cannot use NAT rule: ${what} "${text}" is not an IPv4 address`);
  }
  return a;
}

/**
 * Checks `rule` and prepares it for matching.
 *
 * @throws {TypeError} For a field of the wrong type or text that does not parse.
 * @throws {RangeError} For a port out of range, or a `to` the action does not take.
 * @example
 * ```ts
 * import { compileNatRule } from "./rules.ts";
 * import assert from "node:assert/strict";
 * const r = compileNatRule({ action: "snat", outIface: "eth1", to: "203.0.113.1-203.0.113.2" });
 * assert.equal(r.toAddrHi - r.toAddrLo, 1);
 * assert.throws(() => compileNatRule({ action: "dnat" }), RangeError);
 * ```
 */
export function compileNatRule(rule: NatRule): CompiledRule {
  if (typeof rule !== "object" || rule === null) {
    throw new TypeError("Cannot use NAT rule: expected an object");
  }
  if (!ACTIONS.includes(rule.action)) {
    throw new TypeError(`Cannot use NAT rule: action "${rule.action}" is not one of ${ACTIONS}`);
  }
  for (const k of ["inIface", "outIface", "to"] as const) {
    if (rule[k] !== undefined && typeof rule[k] !== "string") {
      throw new TypeError(`Cannot use NAT rule: ${k} is not a string`);
    }
  }
  const proto = rule.protocol === undefined ? -1 : PROTOCOLS[rule.protocol];
  if (proto === undefined) {
    throw new TypeError(`Cannot use NAT rule: protocol "${rule.protocol}" is not tcp, udp or icmp`);
  }
  if ((rule.srcPort !== undefined || rule.dstPort !== undefined) && proto !== 6 && proto !== 17) {
    throw new RangeError("Cannot use NAT rule: ports need protocol tcp or udp");
  }
  if (rule.action === "snat" || rule.action === "masquerade") {
    if (rule.inIface !== undefined) {
      throw new RangeError(`Cannot use NAT rule: ${rule.action} matches no input interface`);
    }
  } else if (rule.outIface !== undefined) {
    throw new RangeError(`Cannot use NAT rule: ${rule.action} matches no output interface`);
  }
  if (rule.dstType !== undefined) {
    if (rule.dstType !== "local") {
      throw new TypeError(`Cannot use NAT rule: dstType "${rule.dstType}" is not "local"`);
    }
    if (rule.action !== "dnat" && rule.action !== "redirect") {
      throw new RangeError(`Cannot use NAT rule: ${rule.action} takes no dstType`);
    }
  }
  const [srcNet, srcMask] = prefix(rule.source, "source");
  const [dstNet, dstMask] = prefix(rule.destination, "destination");
  const [spLo, spHi] = portRange(rule.srcPort, "source port");
  const [dpLo, dpHi] = portRange(rule.dstPort, "destination port");
  let toAddrLo = 0, toAddrHi = 0, toPortLo = 0, toPortHi = 0;
  const to = rule.to;
  if (rule.action === "redirect") {
    if (to === undefined) throw new RangeError("Cannot use NAT rule: redirect needs --to PORT");
    [toPortLo, toPortHi] = portRange(to, "redirect port");
  } else if (rule.action === "masquerade") {
    if (to !== undefined) {
      if (!to.startsWith(":")) {
        throw new RangeError("Cannot use NAT rule: masquerade takes only --to :PORT-PORT");
      }
      [toPortLo, toPortHi] = portRange(to.substring(1), "masquerade ports");
    }
  } else {
    if (to === undefined) throw new RangeError(`Cannot use NAT rule: ${rule.action} needs --to`);
    const colon = to.indexOf(":");
    const addrs = colon < 0 ? to : to.substring(0, colon);
    const [a, b] = addrs.split("-");
    toAddrLo = address(a!, "to address");
    toAddrHi = b === undefined ? toAddrLo : address(b, "to address");
    if (toAddrHi < toAddrLo) {
      throw new RangeError(`Cannot use NAT rule: address range "${addrs}" is reversed`);
    }
    if (rule.action === "dnat" && toAddrHi !== toAddrLo) {
      throw new RangeError("Cannot use NAT rule: dnat takes one address");
    }
    if (colon >= 0) [toPortLo, toPortHi] = portRange(to.substring(colon + 1), "to port");
    if (colon >= 0 && proto !== 6 && proto !== 17) {
      throw new RangeError("Cannot use NAT rule: a port in --to needs protocol tcp or udp");
    }
  }
  return {
    rule,
    action: rule.action,
    inIface: rule.inIface ?? null,
    outIface: rule.outIface ?? null,
    srcNet,
    srcMask,
    dstNet,
    dstMask,
    dstLocal: rule.dstType === "local",
    protocol: proto,
    srcPortLo: spLo,
    srcPortHi: spHi,
    dstPortLo: dpLo,
    dstPortHi: dpHi,
    toAddrLo,
    toAddrHi,
    toPortLo,
    toPortHi,
  };
}

/**
 * Parses the one-line form (iptables words): `ACTION [-i IF] [-o IF]
 * [-s CIDR] [-d CIDR] [-p tcp|udp|icmp] [--sport P[-P]] [--dport P[-P]]
 * [--to SPEC]`. Checked as {@linkcode compileNatRule} checks objects.
 *
 * @throws {TypeError} For an unknown word or a missing value.
 * @example
 * ```ts
 * import { parseNatRule } from "./rules.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseNatRule("dnat -i eth1 -p tcp --dport 8080 --to 10.1.0.5:80"), {
 *   action: "dnat", inIface: "eth1", protocol: "tcp", dstPort: "8080", to: "10.1.0.5:80",
 * });
 * ```
 */
export function parseNatRule(text: string): NatRule {
  if (typeof text !== "string") throw new TypeError("Cannot parse NAT rule: expected a string");
  const words = text.trim().split(/\s+/);
  const action = words.shift()!.toLowerCase();
  const flags: Record<string, keyof NatRule> = {
    "-i": "inIface",
    "-o": "outIface",
    "-s": "source",
    "-d": "destination",
    "--dst-type": "dstType",
    "-p": "protocol",
    "--sport": "srcPort",
    "--dport": "dstPort",
    "--to": "to",
    "--to-ports": "to",
    "--to-source": "to",
    "--to-destination": "to",
  };
  const rule: Record<string, string> = { action };
  while (words.length > 0) {
    const w = words.shift()!;
    const key = flags[w];
    const v = words.shift();
    if (key === undefined) {
      throw new TypeError(`Cannot parse NAT rule "${text}": unknown word "${w}"`);
    }
    if (v === undefined) throw new TypeError(`Cannot parse NAT rule "${text}": ${w} needs a value`);
    rule[key] = key === "dstType" ? v.toLowerCase() : v;
  }
  const r = rule as unknown as NatRule;
  compileNatRule(r); // the same checks as for objects
  return r;
}

/**
 * A rule in its one-line form (what {@linkcode parseNatRule} reads).
 *
 * @example
 * ```ts
 * import { formatNatRule } from "./rules.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatNatRule({ action: "masquerade", outIface: "eth1" }), "masquerade -o eth1");
 * ```
 */
export function formatNatRule(rule: NatRule): string {
  const parts: string[] = [rule.action];
  const add = (flag: string, v: unknown) => {
    if (v !== undefined) parts.push(flag, String(v));
  };
  add("-i", rule.inIface);
  add("-o", rule.outIface);
  add("-s", rule.source);
  add("-d", rule.destination);
  add("--dst-type", rule.dstType);
  add("-p", rule.protocol);
  add("--sport", rule.srcPort);
  add("--dport", rule.dstPort);
  add("--to", rule.to);
  return parts.join(" ");
}

/**
 * Whether compiled rule `r` matches a first packet: interfaces by name
 * (null: unknown here, matches only a rule without one), addresses, protocol
 * and ports (ports only for TCP/UDP). Hot path for new flows only.
 */
export function ruleMatches(
  r: CompiledRule,
  inIface: string | null,
  outIface: string | null,
  protocol: number,
  src: number,
  srcPort: number,
  dst: number,
  dstPort: number,
): boolean {
  if (r.inIface !== null && r.inIface !== inIface) return false;
  if (r.outIface !== null && r.outIface !== outIface) return false;
  if (((src & r.srcMask) >>> 0) !== r.srcNet || ((dst & r.dstMask) >>> 0) !== r.dstNet) {
    return false;
  }
  if (r.protocol >= 0 && r.protocol !== protocol) return false;
  if (protocol === 6 || protocol === 17) {
    if (srcPort < r.srcPortLo || srcPort > r.srcPortHi) return false;
    if (dstPort < r.dstPortLo || dstPort > r.dstPortHi) return false;
  }
  return true;
}

/**
 * A port-forwarding rule from the command line's form
 * `PROTO:PORT=ADDRESS[:PORT]` (`tcp:8080=10.1.0.5:80`), arriving by
 * `inIface` when given: a `dnat` rule for packets to this host's own
 * addresses only (`dstType: "local"`), so forwarding port 8080 takes
 * neither transit traffic nor the host's own connections to port 8080
 * elsewhere.
 *
 * @throws {TypeError} When `spec` is not of that form.
 * @example
 * ```ts
 * import { parsePortForward } from "./rules.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePortForward("tcp:8080=10.1.0.5:80", "tun1"), {
 *   action: "dnat", inIface: "tun1", dstType: "local", protocol: "tcp", dstPort: 8080, to: "10.1.0.5:80",
 * });
 * ```
 */
export function parsePortForward(spec: string, inIface?: string): NatRule {
  const m = typeof spec === "string" ? /^(tcp|udp):(\d+)=([\d.]+)(?::(\d+))?$/.exec(spec) : null;
  if (m === null) {
    throw new TypeError(
      `Cannot parse port forward "${spec}": expected PROTO:PORT=ADDRESS[:PORT], e.g. tcp:8080=10.1.0.5:80`,
    );
  }
  const rule: NatRule = {
    action: "dnat",
    ...(inIface !== undefined ? { inIface } : {}),
    dstType: "local",
    protocol: m[1] as NatProtocol,
    dstPort: Number(m[2]),
    to: m[4] !== undefined ? `${m[3]}:${m[4]}` : m[3]!,
  };
  compileNatRule(rule);
  return rule;
}

/** `a.b.c.d` of an unsigned 32-bit address (re-exported for the plugin's rows). */
export { formatIpv4Address };
