/**
 * Structured decoding of whole frames for tools (`cli.ts decode`, capture
 * filters, tests against tshark): {@linkcode decodeFrame} walks the headers of
 * a frame (Ethernet and 802.1Q, ARP, IPv4 with options, IPv6 with its
 * extension chain, ICMP, ICMPv6 with NDP and MLD, IGMP, UDP, TCP with
 * options, through the wire modules' option readers and names) and returns
 * every header field of every layer, plus a summary (addresses, ports,
 * protocol). {@linkcode formatDecodedLayers} prints the fields one layer per
 * line (`decode -v`). The readers live in `_decode_layers.ts`.
 *
 * Like tshark, it decodes what was captured even when a packet is cut short
 * by the snapshot length (the layer gets `problem: "truncated"`), and it
 * decodes the datagram quoted by an ICMP error (those layers have
 * `quoted: true` and do not count for the summary).
 *
 * Never throws on any bytes; this is a tools path, not the hot path: it
 * allocates objects and strings per frame.
 *
 * @module
 */
import { decodeLayers } from "./_decode_layers.ts";

export {
  ICMPV6_TYPE_NAMES,
  IPV6_AUTH,
  IPV6_DESTINATION_OPTIONS,
  IPV6_FRAGMENT,
  IPV6_HEADER_LEN,
  IPV6_HOP_BY_HOP,
  IPV6_MAX_EXTENSIONS,
  IPV6_NO_NEXT_HEADER,
  IPV6_ROUTING,
  type Ipv6Extension,
  type Ipv6Walk,
  walkIpv6,
} from "./ipv6_ext.ts";

/** A field value of a decoded layer. */
export type FieldValue = string | number | boolean;

/**
 * One header of a decoded frame.
 *
 * @example
 * ```ts
 * import { decodeFrame, type DecodedLayer } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const ip = new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
 * const layer: DecodedLayer = decodeFrame(ip, 101).layers[0]!;
 * assert.equal(layer.name, "ipv4");
 * assert.equal(layer.fields.src, "10.0.0.1");
 * assert.equal(layer.fields.protocol, 253);
 * ```
 */
export interface DecodedLayer {
  /** Machine name: `ethernet`, `vlan`, `arp`, `ipv4`, `ipv6`, `hop-by-hop`, `routing`, `fragment`, `destination-options`, `ah`, `icmp`, `icmp6`, `igmp`, `udp`, `tcp`. */
  readonly name: string;
  /** Display name: `IPv4`, `ICMPv6`, … */
  readonly title: string;
  /** Offset of the header in the frame. */
  readonly offset: number;
  /** Every header field, in wire order (camelCase keys). */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Annotations printed after a field's value, e.g. `type: "echo request"`. */
  readonly notes: Readonly<Record<string, string>>;
  /** Inside the datagram quoted by an ICMP error. */
  readonly quoted: boolean;
  /** What is wrong with this header (`truncated`, `bad_length`, …), if anything. */
  readonly problem?: string;
}

/**
 * A decoded frame: the layers, and a summary of the outermost ones.
 *
 * @example
 * ```ts
 * import { decodeFrame } from "./decode.ts";
 * import assert from "node:assert/strict";
 * // A UDP datagram 10.0.0.1:5000 -> 10.0.0.2:53 with 4 bytes of data, raw IPv4.
 * const bytes = new Uint8Array([
 *   0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
 *   0x13, 0x88, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4,
 * ]);
 * const f = decodeFrame(bytes, 228);
 * assert.equal(f.protocol, "udp");
 * assert.deepEqual([f.src, f.dst, f.srcPort, f.dstPort], ["10.0.0.1", "10.0.0.2", 5000, 53]);
 * assert.deepEqual(f.protocols, ["ipv4", "udp"]);
 * ```
 */
export interface DecodedFrame {
  /** The pcap LINKTYPE_* the frame was decoded as. */
  readonly linkType: number;
  /** Bytes given (the captured length). */
  readonly length: number;
  /** The innermost protocol of the outer chain: `arp`, `ip`, `ip6`, `icmp`, `icmp6`, `igmp`, `udp`, `tcp`, `ether` (unknown EtherType) or `unknown`. */
  readonly protocol: string;
  /** Layer names of the outer chain (quoted datagrams left out), outermost first. */
  readonly protocols: readonly string[];
  /** Outermost network source: IPv4/IPv6 address, or the ARP sender's protocol address. */
  readonly src?: string;
  /** Outermost network destination (ARP: the target protocol address). */
  readonly dst?: string;
  /** Outermost TCP/UDP source port. */
  readonly srcPort?: number;
  /** Outermost TCP/UDP destination port. */
  readonly dstPort?: number;
  /** Outermost IPv4 protocol, or the IPv6 upper-layer next header. */
  readonly ipProtocol?: number;
  /** Every header, outermost first, quoted ones after the ICMP header quoting them. */
  readonly layers: readonly DecodedLayer[];
  /** The first problem of the outer chain, if any. */
  readonly problem?: string;
}

/**
 * Decodes a frame into layers and a summary. Never throws.
 *
 * @param bytes The captured bytes of the frame (no FCS).
 * @param linkType The pcap LINKTYPE_*: 1 Ethernet, 101 raw IP (version
 * nibble decides), 228 raw IPv4, 229 raw IPv6; others give no layers.
 * @returns The decoded frame.
 *
 * @example
 * ```ts
 * import { decodeFrame } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const arp = new Uint8Array([
 *   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
 *   0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
 *   0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
 * ]);
 * const f = decodeFrame(arp, 1);
 * assert.equal(f.protocol, "arp");
 * assert.deepEqual([f.src, f.dst], ["10.0.0.1", "10.0.0.2"]);
 * assert.equal(f.layers[1]!.notes.operation, "request");
 * assert.equal(decodeFrame(arp.subarray(0, 5), 1).problem, "truncated");
 * ```
 */
export function decodeFrame(bytes: Uint8Array, linkType: number): DecodedFrame {
  return summarize(linkType, bytes.length, decodeLayers(bytes, linkType));
}

const PROTOCOL_OF_LAYER: Readonly<Record<string, string>> = {
  ethernet: "ether",
  vlan: "ether",
  arp: "arp",
  ipv4: "ip",
  ipv6: "ip6",
  icmp: "icmp",
  icmp6: "icmp6",
  igmp: "igmp",
  udp: "udp",
  tcp: "tcp",
};

function summarize(linkType: number, length: number, layers: DecodedLayer[]): DecodedFrame {
  const outer = layers.filter((l) => !l.quoted);
  const out: {
    -readonly [K in keyof DecodedFrame]: DecodedFrame[K];
  } = {
    linkType,
    length,
    protocol: "unknown",
    protocols: outer.map((l) => l.name),
    layers,
  };
  for (const l of outer) {
    const p = PROTOCOL_OF_LAYER[l.name];
    if (p !== undefined) out.protocol = p;
    if (out.problem === undefined && l.problem !== undefined) out.problem = l.problem;
    const f = l.fields;
    switch (l.name) {
      case "arp":
        if (typeof f.senderIp === "string") out.src = f.senderIp;
        if (typeof f.targetIp === "string") out.dst = f.targetIp;
        break;
      case "ipv4":
      case "ipv6":
        if (out.src === undefined && typeof f.src === "string") {
          out.src = f.src;
          if (typeof f.dst === "string") out.dst = f.dst;
        }
        if (l.name === "ipv4" && out.ipProtocol === undefined && typeof f.protocol === "number") {
          out.ipProtocol = f.protocol;
        }
        if (l.name === "ipv6" && typeof f.upperLayer === "number") {
          out.ipProtocol ??= f.upperLayer;
        }
        break;
      case "udp":
      case "tcp":
        if (out.srcPort === undefined && typeof f.srcPort === "number") {
          out.srcPort = f.srcPort;
          if (typeof f.dstPort === "number") out.dstPort = f.dstPort;
        }
        break;
    }
  }
  return out;
}

// ---- verbose text --------------------------------------------------------------------------

function label(key: string): string {
  return key.replace(/[A-Z]/g, (c) => " " + c.toLowerCase());
}

/**
 * The layers of a decoded frame as text, one line per header with every
 * field: `IPv4: version 4, header length 20, …, protocol 1 (ICMP), …`.
 * Quoted headers are indented and marked `(quoted)`.
 *
 * @param frame A frame from {@linkcode decodeFrame}.
 * @returns The lines (no trailing newline).
 *
 * @example
 * ```ts
 * import { decodeFrame, formatDecodedLayers } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const ip = new Uint8Array([0x45, 0, 0, 20, 0, 7, 0x40, 0, 64, 253, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
 * const [line] = formatDecodedLayers(decodeFrame(ip, 101));
 * assert.match(line!, /^IPv4: version 4, header length 20, .*identification 7, flags DF, .*protocol 253 \(unknown\)/);
 * ```
 */
export function formatDecodedLayers(frame: DecodedFrame): string[] {
  return frame.layers.map((l) => {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(l.fields)) {
      const note = l.notes[k];
      parts.push(`${label(k)} ${v}${note === undefined ? "" : ` (${note})`}`);
    }
    const head = l.quoted ? `  ${l.title} (quoted)` : l.title;
    const problem = l.problem === undefined ? "" : ` [${l.problem}]`;
    return `${head}:${parts.length > 0 ? " " : ""}${parts.join(", ")}${problem}`;
  });
}
