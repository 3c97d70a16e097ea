/**
 * IPv6 packets from the capture fixtures (`tests/fixtures/pcaps/`), the
 * Ethernet header cut off, shared by the IPv6, extension-chain and ICMPv6
 * tests. Each was checked against `tshark -V` (all checksums good).
 *
 * @module
 */

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substring(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * icmpv6_neighbor_solicitation.pcapng frame 1 (72 bytes): 2001:db8:1:2::1003 >
 * ff02::1:ff00:1000, hop limit 255, Neighbor Solicitation for
 * 2001:db8:1:2::1000 with a Source Link-Layer Address option 00:0c:29:2f:80:31,
 * checksum 0x44b7.
 */
export const NS_PACKET: Uint8Array = hex(
  "6000000000203aff20010db8000100020000000000001003ff0200000000000000000001ff001000" +
    "870044b70000000020010db80001000200000000000010000101000c292f8031",
);

/**
 * icmpv6_neighbor_solicitation.pcapng frame 2 (72 bytes): the solicited
 * Neighbor Advertisement 2001:db8:1:2::1000 > 2001:db8:1:2::1003, flags S and
 * O, target 2001:db8:1:2::1000, Target Link-Layer Address 00:0c:29:1f:a7:55,
 * checksum 0x8beb.
 */
export const NA_PACKET: Uint8Array = hex(
  "6000000000203aff20010db800010002000000000000100020010db80001000200000000000010038800" +
    "8beb6000000020010db80001000200000000000010000201000c291fa755",
);

/**
 * icmpv6_neighbor_solicitation.pcapng frame 3 (104 bytes): echo reply
 * 2001:db8:1:2::1000 > 2001:db8:1:2::1003, hop limit 64, id 0xeaf5, seq 1,
 * 56 data bytes, checksum 0x7ccf.
 */
export const ECHO_REPLY_PACKET: Uint8Array = hex(
  "6000000000403a4020010db800010002000000000000100020010db800010002000000000000100381" +
    "007ccfeaf50001d488065400000000f5930c0000000000101112131415161718191a1b1c1d1e1f2021" +
    "22232425262728292a2b2c2d2e2f3031323334353637",
);

/**
 * icmpv6.pcap frame 1 (216 bytes): Router Advertisement fe80::b299:28ff:fec8:d66c >
 * ff02::1, hop limit 255, cur hop limit 64, flags 0x20 (H), router lifetime 15 s;
 * options: Prefix Information 2222:3333:4444:5555:6600::/72 (L, A, valid 2592000,
 * preferred 604800), RDNSS (25), DNSSL (31), MTU 100, Source Link-Layer Address
 * b0:99:28:c8:d6:6c, Advertisement Interval (7), Home Agent Information (8).
 * Checksum 0x2401.
 */
export const RA_PACKET: Uint8Array = hex(
  "6000000000b03afffe80000000000000b29928fffec8d66cff02000000000000000000000000000186" +
    "0024014020000f0000000000000000030448c000278d0000093a80000000002222333344445555660000" +
    "00000000001905000000000005abcd000000000000000000000000efef12345678000000000000000000" +
    "0000011f07000000000005076578616d706c6503636f6d00076578616d706c65036f72670004646f6d31" +
    "04646f6d3203746c64000000000000000005010000000000640101b09928c8d66c070100000000138808" +
    "010000c351000f",
);

/**
 * icmpv6.pcap frame 2 (76 bytes): MLDv2 report fe80::215:17ff:fecc:e546 >
 * ff02::16, hop limit 1, behind a Hop-by-Hop header holding Router Alert (MLD)
 * and a PadN; one record (type 4, ff02::db8:1122:3344).
 */
export const MLD_REPORT_PACKET: Uint8Array = hex(
  "6000000000240001fe80000000000000021517fffecce546ff020000000000000000000000000016" +
    "3a000502000001008f001fc50000000104000000ff0200000000000000000db811223344",
);
