/**
 * The numbers several headers share, defined once: pcap link types,
 * EtherTypes and IP protocol numbers. Every other module (the driver
 * contract, the wire views, the plugins, the decoder) imports them from here;
 * `numbers_test.ts` fails if one is defined anywhere else.
 *
 * @example
 * ```ts
 * import { ETHERTYPE_IPV4, IP_PROTOCOL_UDP, LINKTYPE_ETHERNET } from "./numbers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(LINKTYPE_ETHERNET, 1);
 * assert.equal(ETHERTYPE_IPV4, 0x0800);
 * assert.equal(IP_PROTOCOL_UDP, 17);
 * ```
 *
 * @module
 */

/** Ethernet II frames (pcap LINKTYPE_ETHERNET). */
export const LINKTYPE_ETHERNET = 1;
/** Raw IP, version nibble decides v4 or v6 (pcap LINKTYPE_RAW). */
export const LINKTYPE_RAW = 101;
/** Raw IPv4 (pcap LINKTYPE_IPV4). */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6 (pcap LINKTYPE_IPV6). */
export const LINKTYPE_IPV6 = 229;

/** EtherType of IPv4 (RFC 894). */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP (RFC 826). */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType of IPv6 (RFC 2464). */
export const ETHERTYPE_IPV6 = 0x86dd;
/** TPID of an 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** TPID of an 802.1ad service VLAN tag (the outer tag of QinQ). */
export const ETHERTYPE_QINQ = 0x88a8;

/** IP protocol number of ICMP (RFC 792). */
export const IP_PROTOCOL_ICMP = 1;
/** IP protocol number of IGMP (RFC 1112). */
export const IP_PROTOCOL_IGMP = 2;
/** IP protocol number of TCP (RFC 9293). */
export const IP_PROTOCOL_TCP = 6;
/** IP protocol number of UDP (RFC 768). */
export const IP_PROTOCOL_UDP = 17;
/** IP protocol number of ICMPv6 (RFC 4443), for IPv6 next headers. */
export const IP_PROTOCOL_ICMPV6 = 58;
