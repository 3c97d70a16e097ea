/**
 * Ethernet II (IEEE 802.3 framing with EtherType), with 802.1Q/802.1ad tags
 * parsed.
 *
 * - **Binds:** `link` 1 (LINKTYPE_ETHERNET).
 * - **Exposes:** `ethertype` (keyed by the inner EtherType).
 * - **Provides:** `ethernet.send`, and the link output of link type 1: an IP
 *   packet for a next hop gets its MAC from the family's neighbour service
 *   (`neighbor.ipv4`: ARP; `neighbor.ipv6`: NDP when loaded) and the
 *   family's EtherType (0x0800, 0x86dd).
 * - **Requires:** `neighbor.ipv4`, `neighbor.ipv6` (both optional).
 * - **Multicast filter:** a frame to an IP-mapped multicast MAC (01:00:5e,
 *   RFC 1112 §6.4; 33:33, RFC 2464 §7) of a family whose group table (IGMP,
 *   MLD) filters the interface (`NetInterface.multicastFilter`) is taken
 *   only when its MAC is on the interface's link multicast list
 *   (`linkMulticast`, reference-counted like Linux's dev_mc list), or in
 *   promiscuous or all-multicast (`allMulticast`) mode.
 * - **Counters:** `rx.truncated`, `rx.not_for_us` (unicast to another MAC),
 *   `rx.multicast_filtered` (a multicast MAC not on the list),
 *   `rx.llc_unsupported` (802.3 length field instead of an EtherType),
 *   `rx.vlan_filtered` (tagged with a VLAN other than the option `vlan`),
 *   `rx.too_many_tags` (more than two 802.1Q/802.1ad tags),
 *   `tx.frames`, `tx.padded`, `tx.no_neighbor_service` (an IP packet of a
 *   family no loaded plugin resolves neighbours for), `tx.no_mac` (an
 *   interface of link type 1 without a MAC address).
 * - **Depends on:** nothing.
 * - **Not supported:** 802.2 LLC/SNAP payloads, VLAN sub-interfaces (one VLAN id
 *   per stack via the `vlan` option), jumbo-frame negotiation, FCS (drivers
 *   strip it).
 *
 * Graph: `eth0 -> ethernet -[ethertype 0x0800]-> ipv4`
 *
 * @module
 */
export { ethernetPlugin, ethernetPlugin as default } from "./ethernet.ts";
