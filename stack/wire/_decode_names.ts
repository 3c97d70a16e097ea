/**
 * @internal Names the decoder prints beside numbers: protocols, ICMP and
 * IGMP types and codes, ARP operations, IPv4, TCP and NDP options.
 *
 * @module
 */

/** @internal ARP operations (RFC 826; 3 and 4 from RFC 903). */
export const ARP_OPERATIONS: Readonly<Record<number, string>> = {
  1: "request",
  2: "reply",
  3: "rarp request",
  4: "rarp reply",
};

/** @internal IP protocol / IPv6 next-header numbers (IANA). */
export const IP_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: "IPv6 hop-by-hop",
  1: "ICMP",
  2: "IGMP",
  4: "IPv4",
  6: "TCP",
  17: "UDP",
  41: "IPv6",
  43: "IPv6 routing",
  44: "IPv6 fragment",
  47: "GRE",
  50: "ESP",
  51: "AH",
  58: "ICMPv6",
  59: "no next header",
  60: "IPv6 destination options",
  89: "OSPF",
  103: "PIM",
  112: "VRRP",
  132: "SCTP",
};

/** @internal IPv4 option types as tcpdump abbreviates them (RFC 791, RFC 2113). */
export const IPV4_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: "EOL",
  1: "NOP",
  7: "RR",
  68: "TS",
  130: "SEC",
  131: "LSRR",
  136: "SID",
  137: "SSRR",
  148: "RA",
};

/** @internal TCP flag bits, most significant first (RFC 9293 §3.1, RFC 3168). */
export const TCP_FLAG_NAMES: readonly [number, string][] = [
  [0x100, "AE"],
  [0x80, "CWR"],
  [0x40, "ECE"],
  [0x20, "URG"],
  [0x10, "ACK"],
  [0x08, "PSH"],
  [0x04, "RST"],
  [0x02, "SYN"],
  [0x01, "FIN"],
];

/** @internal ICMPv4 types (RFC 792). */
export const ICMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "echo reply",
  3: "destination unreachable",
  4: "source quench",
  5: "redirect",
  8: "echo request",
  9: "router advertisement",
  10: "router solicitation",
  11: "time exceeded",
  12: "parameter problem",
  13: "timestamp request",
  14: "timestamp reply",
  17: "address mask request",
  18: "address mask reply",
};

/** @internal ICMPv4 destination-unreachable codes (RFC 792, RFC 1812 §5.2.7.1). */
export const ICMP_UNREACHABLE_CODES: Readonly<Record<number, string>> = {
  0: "net unreachable",
  1: "host unreachable",
  2: "protocol unreachable",
  3: "port unreachable",
  4: "fragmentation needed",
  5: "source route failed",
  6: "net unknown",
  7: "host unknown",
  9: "net prohibited",
  10: "host prohibited",
  13: "administratively prohibited",
};

/** @internal IGMP message types (RFC 1112, RFC 2236, RFC 3376). */
export const IGMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x11: "membership query",
  0x12: "v1 membership report",
  0x13: "dvmrp",
  0x14: "pim v1",
  0x16: "v2 membership report",
  0x17: "leave group",
  0x1e: "mtrace response",
  0x1f: "mtrace",
  0x22: "v3 membership report",
};

/** @internal IPv6 Neighbor Discovery option types (RFC 4861 §4.6 and later). */
export const NDP_OPTION_NAMES: Readonly<Record<number, string>> = {
  1: "source link-address",
  2: "target link-address",
  3: "prefix info",
  4: "redirected header",
  5: "mtu",
  7: "advertisement interval",
  14: "nonce",
  24: "route info",
  25: "rdnss",
  31: "dnssl",
};
