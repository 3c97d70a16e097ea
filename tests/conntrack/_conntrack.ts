/**
 * Helpers of `tests/conntrack/`: the routed network of `tests/routing/`
 * with the conntrack plugin on R1, and short forms of its table.
 *
 * @module
 */
import type { ConntrackRef, PacketBuffer, ProtocolPlugin, Stack } from "../../mod.ts";
import { ACCEPT, conntrackPlugin } from "../../mod.ts";
import { checksum, ip, ipv4Packet, type PluginOptions } from "../_harness.ts";
import { makeRoutedNet, type RoutedNet } from "../routing/_topology.ts";

/**
 * The routed network (H1, H2 – R1 – R2 – H3) with conntrack on both
 * routers (the tests read R1's), its options given as `conntrack`.
 */
export function trackedNet(
  conntrack: PluginOptions[string] = {},
  extra: readonly ProtocolPlugin[] = [],
): RoutedNet {
  return makeRoutedNet({
    routerExtraPlugins: (name) => name === "r1" ? [conntrackPlugin, ...extra] : [conntrackPlugin],
    routerPlugins: { conntrack },
  });
}

/**
 * R1's rows in one line each: `proto state src:sport>dst:dport reply-src:sport>dst:dport flags`.
 */
export function rows(stack: Stack): string[] {
  return stack.conntrack().map((r) =>
    [
      r.protocol,
      r.state || "-",
      `${r.original.src}:${r.original.srcPort}>${r.original.dst}:${r.original.dstPort}`,
      `${r.reply.src}:${r.reply.srcPort}>${r.reply.dst}:${r.reply.dstPort}`,
      r.flags || "-",
    ].join(" ")
  );
}

/** The state of the one TCP row of `stack`'s table. */
export function tcpState(stack: Stack): string {
  const tcp = stack.conntrack().filter((r) => r.protocol === "tcp");
  if (tcp.length !== 1) throw new Error(`expected one TCP flow, got ${tcp.length}`);
  return tcp[0]!.state;
}

/**
 * An IPv4 datagram carrying a UDP (17) or TCP (6) header `l4` (checksum
 * field zero) and `payload`, with the transport checksum computed here.
 */
export function transportPacket(
  src: string,
  dst: string,
  protocol: 6 | 17,
  l4: Uint8Array,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const seg = new Uint8Array(l4.length + payload.length);
  seg.set(l4);
  seg.set(payload, l4.length);
  if (protocol === 17) new DataView(seg.buffer).setUint16(4, seg.length);
  const pseudo = new Uint8Array(12 + seg.length);
  const pv = new DataView(pseudo.buffer);
  pv.setUint32(0, ip(src));
  pv.setUint32(4, ip(dst));
  pv.setUint16(8, protocol);
  pv.setUint16(10, seg.length);
  pseudo.set(seg, 12);
  const sum = checksum(pseudo);
  new DataView(seg.buffer).setUint16(protocol === 17 ? 6 : 16, sum === 0 ? 0xffff : sum);
  return ipv4Packet({ src, dst, protocol }, seg);
}

/** A UDP header from `sport` to `dport` (length and checksum filled by {@linkcode transportPacket}). */
export function udpHeader(sport: number, dport: number): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  return h;
}

/** A 20-byte TCP header. */
export function tcpHeader(
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  window = 65535,
): Uint8Array {
  const h = new Uint8Array(20);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint32(4, seq >>> 0);
  dv.setUint32(8, ack >>> 0);
  dv.setUint8(12, 5 << 4);
  dv.setUint8(13, flags);
  dv.setUint16(14, window);
  return h;
}

/**
 * A plugin joining `postrouting` after conntrack that records, for every
 * forwarded TCP segment, its flags and the state of its flow after it.
 */
export function tcpStateRecorder(seen: string[]): ProtocolPlugin {
  return {
    manifest: {
      name: "ct_recorder",
      version: "1.0.0",
      api: "^1.0.0",
      description: "records conntrack TCP states",
      layer: "middlebox",
      binds: [],
      hooks: [{ point: "postrouting", after: ["conntrack"] }],
      counters: [],
    },
    setup() {
      return {
        hook(_point, pkt: PacketBuffer) {
          const ref = pkt.ct as ConntrackRef | null;
          if (pkt.family === 4 && pkt.proto === 6 && ref !== null) {
            const l4 = pkt.l3 + ((pkt.buf[pkt.l3]! & 0x0f) << 2);
            const f = pkt.buf[l4 + 13]!;
            const names = [[0x02, "S"], [0x10, "."], [0x01, "F"], [0x04, "R"]] as const;
            const flags = names.filter(([bit]) => (f & bit) !== 0).map(([, n]) => n).join("");
            const last = `${ref.direction === 0 ? ">" : "<"}${flags} ${ref.entry.state}`;
            if (seen.at(-1) !== last) seen.push(last);
          }
          return ACCEPT;
        },
      };
    },
  };
}
