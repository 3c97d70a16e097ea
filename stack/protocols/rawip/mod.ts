/**
 * Raw IP links (TUN devices, LINKTYPE_RAW/IPV4/IPV6 captures): the frame is
 * the IP packet, and the version nibble says which.
 *
 * - **Binds:** `link` 101 (RAW), 228 (IPV4), 229 (IPV6).
 * - **Exposes:** `ethertype` (0x0800 or 0x86dd, so IP plugins bind one table).
 * - **Link output:** the IP packet is the frame: sent as is, whatever the
 *   next hop (a point-to-point link has no neighbours).
 * - **Counters:** `rx.truncated`, `rx.bad_version`.
 * - **Depends on:** nothing.
 * - **Not supported:** the 4-byte packet-information header (use IFF_NO_PI).
 *
 * Graph: `tun0 -> rawip -[ethertype 0x0800]-> ipv4`
 *
 * @module
 */
import { LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW } from "../../driver.ts";
import type { LinkOutput, ProtocolPlugin, RxContext, RxVerdict } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "../../wire/ethernet.ts";
import { ipv4Version } from "../../wire/ipv4_fields.ts";

/** The raw-IP link plugin. */
export const rawIpPlugin: ProtocolPlugin = {
  manifest: {
    name: "rawip",
    version: "1.0.0",
    api: "^1.0.0",
    description: "Raw IP link types: the version nibble picks IPv4 or IPv6",
    layer: "link",
    binds: [
      { table: "link", key: LINKTYPE_RAW },
      { table: "link", key: LINKTYPE_IPV4 },
      { table: "link", key: LINKTYPE_IPV6 },
    ],
    exposes: ["ethertype"],
    emits: { ethertype: [ETHERTYPE_IPV4, ETHERTYPE_IPV6] },
    counters: ["rx.truncated", "rx.bad_version"],
  },
  setup(ctx) {
    const ethertype = ctx.table("ethertype");
    const linkOutput: LinkOutput = {
      output(iface, _family, _nextHop, pkt): void {
        ctx.transmit(iface.index, pkt);
      },
    };
    return {
      linkOutput,
      receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
        if (pkt.length < 1) return "truncated";
        const version = ipv4Version(pkt.dv, pkt.start); // the same nibble in IPv6
        if (rx.key === LINKTYPE_IPV4 && version !== 4) return "bad_version";
        if (rx.key === LINKTYPE_IPV6 && version !== 6) return "bad_version";
        pkt.l3 = pkt.start;
        if (version === 4) return rx.next(ethertype, pkt.etherType = ETHERTYPE_IPV4);
        if (version === 6) return rx.next(ethertype, pkt.etherType = ETHERTYPE_IPV6);
        return "bad_version";
      },
    };
  },
};

export default rawIpPlugin;
