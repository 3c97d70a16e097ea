/**
 * The Ethernet plugin. Headers are read through the offset-based accessors of
 * `stack/wire/ethernet_fields.ts` instead of building an `EthernetFrame` view:
 * that saves two allocations per frame on the hottest path of the stack. The
 * checks are those of `EthernetFrame.check()` in `stack/wire/ethernet.ts`.
 *
 * @module
 */
import { LINKTYPE_ETHERNET } from "../../driver.ts";
import type {
  LinkOutput,
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
} from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import {
  type EthernetService,
  type NeighborResolver,
  neighborServiceName,
} from "../../services.ts";
import {
  ETHERNET_HEADER_LEN as HEADER_LEN,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ as TPID_8021AD,
  ETHERTYPE_VLAN as TPID_8021Q,
} from "../../wire/ethernet.ts";
import type { IpFamily, IpKey } from "../../wire/ip_address.ts";
import {
  ethernetEtherType,
  setEthernetEtherType,
  VLAN_ID_MASK,
  vlanEtherType,
  vlanTci,
} from "../../wire/ethernet_fields.ts";

const MIN_FRAME = 60; // without FCS

/**
 * Whether `iface` takes the multicast frame whose destination MAC is at
 * `b[s]`: an IP-mapped MAC (RFC 1112 §6.4, RFC 2464 §7) of a family whose
 * group table filters the link only when a group holds it (Linux's
 * dev_mc list); any other multicast MAC, or any at all in promiscuous or
 * all-multicast mode. Hot path: no allocation.
 */
function acceptsMulticast(iface: NetInterface, b: Uint8Array, s: number): boolean {
  if (iface.promiscuous || iface.allMulticast) return true;
  const b0 = b[s]!;
  const b1 = b[s + 1]!;
  const family = b0 === 0x01 && b1 === 0x00 && b[s + 2] === 0x5e && (b[s + 3]! & 0x80) === 0
    ? 1
    : b0 === 0x33 && b1 === 0x33
    ? 2
    : 0;
  if ((family & iface.multicastFilter) === 0) return true;
  const low = ((b[s + 2]! << 24) | (b[s + 3]! << 16) | (b[s + 4]! << 8) | b[s + 5]!) >>> 0;
  return iface.linkMulticast.has((b0 * 256 + b1) * 0x1_0000_0000 + low);
}

/** The Ethernet II plugin. */
export const ethernetPlugin: ProtocolPlugin = {
  manifest: {
    name: "ethernet",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Ethernet II framing with 802.1Q tags",
    layer: "link",
    binds: [{ table: "link", key: LINKTYPE_ETHERNET }],
    exposes: ["ethertype"],
    provides: ["ethernet.send"],
    requires: [
      { service: neighborServiceName(4), optional: true },
      { service: neighborServiceName(6), optional: true },
    ],
    counters: [
      "rx.truncated",
      "rx.not_for_us",
      "rx.multicast_filtered",
      "rx.llc_unsupported",
      "rx.vlan_filtered",
      "rx.too_many_tags",
      "tx.frames",
      "tx.padded",
      "tx.no_neighbor_service",
      "tx.no_mac",
    ],
    options: {
      vlan: {
        default: 0,
        description: "802.1Q VLAN id accepted besides untagged frames (0: none)",
      },
      pad: { default: true, description: "pad frames shorter than 60 bytes, as real NICs do" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const ethertype = ctx.table("ethertype");
    const vlan = ctx.options.vlan as number;
    const pad = ctx.options.pad as boolean;
    const txFrames = ctx.counter("tx.frames");
    const txPadded = ctx.counter("tx.padded");

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const s = pkt.start;
      if (pkt.end - s < HEADER_LEN) return "truncated";
      const b = pkt.buf;
      const dv = pkt.dv;
      if ((b[s]! & 1) !== 0) {
        if (
          b[s] === 0xff && b[s + 1] === 0xff && b[s + 2] === 0xff &&
          b[s + 3] === 0xff && b[s + 4] === 0xff && b[s + 5] === 0xff
        ) {
          pkt.flags |= PacketFlags.LINK_BROADCAST;
        } else {
          if (rx.iface.multicastFilter !== 0 && !acceptsMulticast(rx.iface, b, s)) {
            return "multicast_filtered";
          }
          pkt.flags |= PacketFlags.LINK_MULTICAST;
        }
      } else {
        const mac = rx.iface.mac;
        if (
          mac !== null && (b[s] !== mac[0] || b[s + 1] !== mac[1] || b[s + 2] !== mac[2] ||
            b[s + 3] !== mac[3] || b[s + 4] !== mac[4] || b[s + 5] !== mac[5])
        ) {
          if (!rx.iface.promiscuous) return "not_for_us";
          pkt.flags |= PacketFlags.LINK_OTHERHOST;
        }
      }
      let off = s + 12; // the EtherType, or a tag's TPID
      let type = ethernetEtherType(dv, s);
      // Up to two tags (802.1ad outer, 802.1Q inner).
      for (let tags = 0; (type === TPID_8021Q || type === TPID_8021AD) && tags < 2; tags++) {
        if (pkt.end - off < 6) return "truncated";
        const vid = vlanTci(dv, off) & VLAN_ID_MASK;
        if (vid !== 0 && vid !== vlan) return "vlan_filtered";
        type = vlanEtherType(dv, off);
        off += 4;
      }
      // A third tag: we parse at most 802.1ad + 802.1Q (else it would reach
      // the ethertype table as key 0x8100 and count as no_binding).
      if (type === TPID_8021Q || type === TPID_8021AD) return "too_many_tags";
      if (type < 0x0600) return "llc_unsupported";
      pkt.l2 = s;
      pkt.etherType = type;
      pkt.start = off + 2;
      pkt.l3 = pkt.start;
      return rx.next(ethertype, type);
    }

    const noNeighbor = ctx.counter("tx.no_neighbor_service");
    const noMac = ctx.counter("tx.no_mac");
    // The neighbour resolvers of IPv4 and IPv6, found in ready().
    let neighbors4: NeighborResolver | undefined;
    let neighbors6: NeighborResolver | undefined;

    /** Prepends the header (`dst`, our MAC) and transmits; takes ownership. */
    function frame(
      iface: NetInterface,
      dst: Uint8Array,
      etherType: number,
      pkt: PacketBuffer,
    ): void {
      const mac = iface.mac;
      if (mac === null) {
        noMac.value++;
        pkt.release();
        return;
      }
      const at = pkt.prepend(HEADER_LEN);
      const b = pkt.buf;
      const dv = pkt.dv;
      // Twelve byte stores: two `set()` calls of 6 bytes cost more (a
      // builtin call each, per frame).
      b[at] = dst[0]!;
      b[at + 1] = dst[1]!;
      b[at + 2] = dst[2]!;
      b[at + 3] = dst[3]!;
      b[at + 4] = dst[4]!;
      b[at + 5] = dst[5]!;
      b[at + 6] = mac[0]!;
      b[at + 7] = mac[1]!;
      b[at + 8] = mac[2]!;
      b[at + 9] = mac[3]!;
      b[at + 10] = mac[4]!;
      b[at + 11] = mac[5]!;
      setEthernetEtherType(dv, at, etherType);
      pkt.l2 = at;
      if (pad && pkt.length < MIN_FRAME && pkt.tailroom >= MIN_FRAME - pkt.length) {
        const from = pkt.append(MIN_FRAME - pkt.length);
        b.fill(0, from, pkt.end);
        txPadded.value++;
      }
      txFrames.value++;
      ctx.transmit(iface.index, pkt);
    }

    const service: EthernetService = {
      send(ifindex: number, dst: Uint8Array, etherType: number, pkt: PacketBuffer): void {
        const iface = ctx.interfaces.get(ifindex);
        if (iface === undefined) {
          pkt.release();
          return;
        }
        frame(iface, dst, etherType, pkt);
      },
    };

    // IP over Ethernet: the family's resolver gives the MAC (or keeps the
    // packet until it knows it), then the EtherType of the family.
    const linkOutput: LinkOutput = {
      output(iface: NetInterface, family: IpFamily, nextHop: IpKey, pkt: PacketBuffer): void {
        const resolver = family === 4 ? neighbors4 : neighbors6;
        if (resolver === undefined) {
          noNeighbor.value++;
          pkt.release();
          return;
        }
        const mac = resolver.resolve(iface.index, nextHop, pkt);
        if (mac !== null) frame(iface, mac, family === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6, pkt);
      },
    };

    return {
      receive,
      linkOutput,
      services: { "ethernet.send": service },
      ready() {
        neighbors4 = ctx.optionalService<NeighborResolver>(neighborServiceName(4));
        neighbors6 = ctx.optionalService<NeighborResolver>(neighborServiceName(6));
      },
    };
  },
};
