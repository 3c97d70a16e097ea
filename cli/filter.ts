/**
 * The capture filter language of `decode --filter` and `replay --filter`:
 * the common part of tcpdump's (pcap-filter(7)), compiled by a small
 * recursive-descent parser into a predicate over decoded frames.
 * {@linkcode compileFilter} compiles; {@linkcode FILTER_HELP} documents.
 *
 * Grammar (as pcap-filter: `not` binds tightest; `and` and `or` have the
 * same precedence and group left to right, so `a or b and c` is
 * `(a or b) and c`):
 *
 * ```
 * expr      = unary { ("and" | "&&" | "or" | "||") (unary | ID) }
 * unary     = ("not" | "!") unary | "(" expr ")" | primitive
 * primitive = [proto] [dir] [type] ID  |  proto
 * proto     = ether | arp | ip | ip6 | icmp | icmp6 | igmp | tcp | udp
 * dir       = src | dst | src or dst | src and dst
 * type      = host | net | port | portrange
 * ```
 *
 * A bare ID after `and`/`or` takes the qualifiers of the primitive before
 * it, as in tcpdump: `port 80 or 443`, `host 10.0.0.1 or 10.0.0.2`.
 *
 * @module
 */
import { type DecodedFrame } from "../stack/wire/decode.ts";
import {
  formatIpv4Address,
  formatIpv6Address,
  formatMac,
  ipv4Mask,
  parseIpv4Address,
  parseIpv6Address,
  parseMac,
} from "../stack/wire/address.ts";
import {
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_ICMPV6,
  IP_PROTOCOL_IGMP,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
} from "../stack/wire/numbers.ts";

/** A compiled filter: does this decoded frame match? */
export type FrameFilter = (frame: DecodedFrame) => boolean;

/**
 * The filter language, for help texts.
 *
 * @example
 * ```ts
 * import { FILTER_HELP } from "./filter.ts";
 * import assert from "node:assert/strict";
 * assert.match(FILTER_HELP, /net CIDR/);
 * ```
 */
export const FILTER_HELP = `Filter expressions (--filter), tcpdump's common forms:
  ether arp ip ip6 icmp icmp6 igmp tcp udp
                       the packet carries that protocol (ip is IPv4)
  host ADDR            ADDR (IPv4 or IPv6) is its source or destination;
                       for ARP, the sender or target protocol address
  net CIDR             an address in CIDR (10.0.0.0/8), or "net 10.1" (/16),
                       or "net 10.0.0.0 mask 255.0.0.0"
  port N, portrange N-M  TCP or UDP port (N may be a name: http, domain, …)
  ether host MAC       Ethernet source or destination MAC
  src X, dst X, src or dst X, src and dst X   (X: host, net, port, or an address)
  PROTO X              e.g. "tcp port 25", "udp dst port 53", "ip host 10.0.0.1"
  not X   X and Y   X or Y   ( X )     also !, &&, ||
                       "not" binds tightest; "and" and "or" bind equally,
                       left to right, as in tcpdump: use parentheses
  A bare value after and/or repeats the qualifiers before it: "port 80 or 443".
  Only the packet's own headers count: the datagram quoted inside an ICMP
  error does not match host or port (as in tcpdump).
  Example: "tcp port 80 and not (host 10.0.0.1 or net 192.168.0.0/16)"`;

const PROTOCOLS = ["ether", "arp", "ip", "ip6", "icmp", "icmp6", "igmp", "tcp", "udp"] as const;
type Proto = typeof PROTOCOLS[number];
type Dir = "src" | "dst" | "src or dst" | "src and dst";
type Kind = "host" | "net" | "port" | "portrange";

/** Well-known service names tcpdump takes for a port (from /etc/services). */
const SERVICES: Readonly<Record<string, number>> = {
  echo: 7,
  discard: 9,
  daytime: 13,
  chargen: 19,
  "ftp-data": 20,
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  http: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  bgp: 179,
  https: 443,
  syslog: 514,
};

const KEYWORDS = new Set<string>([
  ...PROTOCOLS,
  "src",
  "dst",
  "host",
  "net",
  "port",
  "portrange",
  "mask",
  "and",
  "or",
  "not",
  "&&",
  "||",
  "!",
  "(",
  ")",
]);

function tokenize(expr: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(\(|\)|!|&&|\|\||[^\s()!&|]+)/y;
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (m === null) {
      throw new SyntaxError(`Cannot parse filter: unexpected "${expr.slice(at).trim()}"`);
    }
    tokens.push(m[1]!);
    at = re.lastIndex;
  }
  return tokens;
}

/** The qualifiers of a primitive, kept for a following bare value. */
interface Qualifiers {
  readonly proto: Proto | undefined;
  readonly dir: Dir;
  readonly kind: Kind | undefined;
}

/**
 * The IP protocol as tcpdump tests it: IPv4's protocol field, or the next
 * header of the fixed IPv6 header (extension headers are not followed, so
 * `icmp6` does not match an MLD report behind a hop-by-hop header, as in
 * tcpdump).
 */
function ipProto(f: DecodedFrame): number | undefined {
  if (f.protocols.includes("ipv4")) return f.ipProtocol;
  const v6 = f.layers.find((l) => l.name === "ipv6" && !l.quoted);
  const nh = v6?.fields.nextHeader;
  return typeof nh === "number" ? nh : undefined;
}

/** `proto` alone: does the frame carry it? */
function protoMatch(proto: Proto): FrameFilter {
  switch (proto) {
    case "ether":
      return (f) => f.layers[0]?.name === "ethernet";
    case "arp":
      return (f) => f.protocols.includes("arp");
    case "ip":
      return (f) => f.protocols.includes("ipv4");
    case "ip6":
      return (f) => f.protocols.includes("ipv6");
    // By the IP protocol field, so that a later fragment matches as in tcpdump.
    case "icmp":
      return (f) => f.protocols.includes("ipv4") && f.ipProtocol === IP_PROTOCOL_ICMP;
    case "igmp":
      return (f) => f.protocols.includes("ipv4") && f.ipProtocol === IP_PROTOCOL_IGMP;
    case "icmp6":
      return (f) => f.protocols.includes("ipv6") && ipProto(f) === IP_PROTOCOL_ICMPV6;
    case "tcp":
      return (f) => ipProto(f) === IP_PROTOCOL_TCP;
    case "udp":
      return (f) => ipProto(f) === IP_PROTOCOL_UDP;
  }
}

/** Combines a source and a destination test by `dir`. */
function byDir(dir: Dir, src: FrameFilter, dst: FrameFilter): FrameFilter {
  switch (dir) {
    case "src":
      return src;
    case "dst":
      return dst;
    case "src or dst":
      return (f) => src(f) || dst(f);
    case "src and dst":
      return (f) => src(f) && dst(f);
  }
}

/** An IPv4 or IPv6 network: family, address bytes, prefix length. */
interface Net {
  readonly v6: boolean;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function addressBytes(s: string): { v6: boolean; bytes: Uint8Array } | null {
  const v4 = parseIpv4Address(s);
  if (v4 !== null) {
    return {
      v6: false,
      bytes: new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]),
    };
  }
  const v6 = parseIpv6Address(s);
  return v6 === null ? null : { v6: true, bytes: v6 };
}

function inNet(net: Net, address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = addressBytes(address);
  if (a === null || a.v6 !== net.v6) return false;
  for (let bit = 0; bit < net.prefix; bit += 8) {
    const n = Math.min(8, net.prefix - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    if ((a.bytes[bit / 8]! & mask) !== (net.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/**
 * Compiles a filter expression (see {@linkcode FILTER_HELP}).
 *
 * @param expr The expression, e.g. `"tcp port 80 and not host 10.0.0.1"`.
 * @returns A predicate over {@linkcode DecodedFrame}s.
 * @throws {SyntaxError} For a malformed expression, naming the problem.
 *
 * @example
 * ```ts
 * import { compileFilter } from "./filter.ts";
 * import { decodeFrame } from "../stack/wire/decode.ts";
 * import assert from "node:assert/strict";
 * const udp = new Uint8Array([
 *   0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
 *   0x13, 0x88, 0, 53, 0, 8, 0, 0,
 * ]);
 * const f = decodeFrame(udp, 101);
 * assert.ok(compileFilter("udp port 53")(f));
 * assert.ok(compileFilter("net 10.0.0.0/8 and not tcp")(f));
 * assert.ok(!compileFilter("src port 53 || arp")(f));
 * assert.throws(() => compileFilter("port"), SyntaxError);
 * ```
 */
export function compileFilter(expr: string): FrameFilter {
  const tokens = tokenize(expr);
  let i = 0;
  let last: Qualifiers | null = null;
  const peek = (k = 0) => tokens[i + k];
  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot parse filter "${expr}": ${what}`);
  };

  function orAnd(): FrameFilter {
    let left = unary();
    for (;;) {
      const op = peek();
      const isAnd = op === "and" || op === "&&";
      if (!isAnd && op !== "or" && op !== "||") return left;
      i++;
      const next = peek();
      // "port 80 or 443": a bare value repeats the qualifiers before it.
      const right = next !== undefined && !KEYWORDS.has(next) && last !== null
        ? (i++, value(last, next))
        : unary();
      const l = left;
      left = isAnd ? (f) => l(f) && right(f) : (f) => l(f) || right(f);
    }
  }

  function unary(): FrameFilter {
    const t = peek();
    if (t === "not" || t === "!") {
      i++;
      const inner = unary();
      return (f) => !inner(f);
    }
    if (t === "(") {
      i++;
      const inner = orAnd();
      if (tokens[i++] !== ")") fail('missing ")"');
      return inner;
    }
    return primitive();
  }

  function primitive(): FrameFilter {
    const t = tokens[i];
    if (t === undefined) return fail("the expression ends too early");
    let proto: Proto | undefined;
    if ((PROTOCOLS as readonly string[]).includes(t)) {
      proto = t as Proto;
      i++;
    }
    let dir: Dir | undefined;
    if (peek() === "src" || peek() === "dst") {
      dir = tokens[i++] as "src" | "dst";
      // "src or dst host X": the "or"/"and" belongs to the direction only
      // when a direction follows it.
      if ((peek() === "or" || peek() === "and") && (peek(1) === "src" || peek(1) === "dst")) {
        const op = tokens[i++]!;
        const other = tokens[i++]!;
        if (other === dir) fail(`"${dir} ${op} ${other}" names one direction twice`);
        dir = op === "or" ? "src or dst" : "src and dst";
      }
    }
    let kind: Kind | undefined;
    const k = peek();
    if (k === "host" || k === "net" || k === "port" || k === "portrange") {
      kind = k;
      i++;
    }
    if (dir === undefined && kind === undefined) {
      if (proto !== undefined) return protoMatch(proto);
      const arg = tokens[i];
      if (arg !== undefined && !KEYWORDS.has(arg) && addressBytes(arg) !== null) {
        i++;
        return value(last = { proto, dir: "src or dst", kind: "host" }, arg);
      }
      return fail(
        `unknown word "${t}" (expected a protocol, host, net, port, src, dst, not, or "(")`,
      );
    }
    const q: Qualifiers = { proto, dir: dir ?? "src or dst", kind };
    const arg = tokens[i++];
    if (arg === undefined || KEYWORDS.has(arg)) {
      return fail(`"${kind ?? dir}" needs a value after it`);
    }
    last = q;
    return value(q, arg);
  }

  /** The test of one value under qualifiers `q`. */
  function value(q: Qualifiers, arg: string): FrameFilter {
    const kind = q.kind ?? (/^\d+$/.test(arg) || Object.hasOwn(SERVICES, arg) ? "port" : "host");
    if (q.proto === "ether") {
      if (kind !== "host") fail(`"ether" takes host, src or dst, not ${kind}`);
      const mac = parseMac(arg) ?? fail(`"${arg}" is not a MAC address`);
      const want = formatMac(mac);
      const field = (name: "src" | "dst"): FrameFilter => (f) => {
        const eth = f.layers[0];
        return eth?.name === "ethernet" && typeof eth.fields[name] === "string" &&
          formatMac(parseMac(eth.fields[name] as string) ?? new Uint8Array(6)) === want;
      };
      return byDir(q.dir, field("src"), field("dst"));
    }
    const on = q.proto === undefined ? null : protoMatch(q.proto);
    const gated = (t: FrameFilter): FrameFilter => on === null ? t : (f) => on(f) && t(f);
    if (kind === "port" || kind === "portrange") {
      if (q.proto !== undefined && q.proto !== "tcp" && q.proto !== "udp") {
        fail(`"${q.proto}" has no ports: use tcp or udp`);
      }
      let lo: number, hi: number;
      if (kind === "port") {
        lo = hi = portNumber(arg);
      } else {
        const m = /^([^-]+)-([^-]+)$/.exec(arg) ?? fail(`"${arg}" is not a port range N-M`);
        lo = portNumber(m[1]!);
        hi = portNumber(m[2]!);
        if (lo > hi) [lo, hi] = [hi, lo];
      }
      const inRange = (p: number | undefined) => p !== undefined && p >= lo && p <= hi;
      const tcpOrUdp = on ?? ((f: DecodedFrame) => {
        const p = ipProto(f);
        return p === IP_PROTOCOL_TCP || p === IP_PROTOCOL_UDP;
      });
      const t = byDir(q.dir, (f) => inRange(f.srcPort), (f) => inRange(f.dstPort));
      return (f) => tcpOrUdp(f) && t(f);
    }
    if (q.proto !== undefined && !["ip", "ip6", "arp"].includes(q.proto)) {
      fail(`"${q.proto}" takes port, not ${kind}: use ip, ip6 or arp for ${kind}`);
    }
    if (kind === "host") {
      const a = addressBytes(arg) ?? fail(`"${arg}" is not an IPv4 or IPv6 address`);
      const want = a.v6
        ? formatIpv6Address(a.bytes)
        : arg.split(".").length === 4
        ? formatIpv4Address(parseIpv4Address(arg)!)
        : fail(`"${arg}" is not an IPv4 or IPv6 address`);
      return gated(byDir(q.dir, (f) => canon(f.src) === want, (f) => canon(f.dst) === want));
    }
    // net
    let net: Net;
    if (peek() === "mask") {
      i++;
      const m = tokens[i++] ?? fail('"mask" needs a netmask');
      const mask = parseIpv4Address(m) ?? fail(`"${m}" is not an IPv4 netmask`);
      const prefix = 32 - Math.log2((~mask >>> 0) + 1);
      if (!Number.isInteger(prefix) || ipv4Mask(prefix) !== mask) fail(`"${m}" is not a netmask`);
      const a = addressBytes(arg) ?? fail(`"${arg}" is not an IPv4 network`);
      net = { v6: false, bytes: a.bytes, prefix };
    } else net = parseNet(arg) ?? fail(`"${arg}" is not a network such as 10.0.0.0/8`);
    return gated(byDir(q.dir, (f) => inNet(net, f.src), (f) => inNet(net, f.dst)));
  }

  function portNumber(arg: string): number {
    if (Object.hasOwn(SERVICES, arg)) return SERVICES[arg]!;
    if (!/^\d{1,5}$/.test(arg) || Number(arg) > 65535) fail(`"${arg}" is not a port number`);
    return Number(arg);
  }

  if (tokens.length === 0) fail("it is empty");
  const f = orAnd();
  if (i < tokens.length) fail(`unexpected "${tokens[i]}"`);
  return f;
}

/** Canonical text of an address, as the decoder prints it (or undefined). */
function canon(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const v6 = s.includes(":") ? parseIpv6Address(s) : null;
  return v6 === null ? s : formatIpv6Address(v6);
}

/** `10.0.0.0/8`, `fd00::/8`, `10.1` (/16 as tcpdump), `10.1.2.3` (/32). */
function parseNet(arg: string): Net | null {
  const slash = arg.indexOf("/");
  const addr = slash < 0 ? arg : arg.slice(0, slash);
  let bytes: Uint8Array;
  let v6 = false;
  let prefix: number;
  if (addr.includes(":")) {
    const a = parseIpv6Address(addr);
    if (a === null) return null;
    bytes = a;
    v6 = true;
    prefix = 128;
  } else {
    const parts = addr.split(".");
    if (parts.length > 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
      return null;
    }
    bytes = new Uint8Array(4);
    parts.forEach((p, k) => bytes[k] = Number(p));
    prefix = parts.length * 8;
  }
  if (slash >= 0) {
    const p = arg.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > (v6 ? 128 : 32)) return null;
    prefix = Number(p);
  }
  return { v6, bytes, prefix };
}
