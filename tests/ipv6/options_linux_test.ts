/**
 * The options of tun-scapy_ext6.pcap against what Linux does with them.
 * Replayed into a Linux namespace over TUN (by hand, 2026-12-05, kernel of
 * this machine): the packet as captured is dropped silently with
 * Ip6InHdrErrors; with its padding run broken by an unknown skip-type
 * option, Linux answers Port Unreachable; with a PadN holding a non-zero
 * byte it drops it again. All its options have the high bits 00 (skip):
 * the drop is not about unknown options but about its Hop-by-Hop header's
 * two PadN in a row, 10 bytes of padding where 7 is the most that can
 * align anything (RFC 8504 §5.3, RFC 4942 §2.1.9.5; Linux ip6_parse_tlv).
 */
import assert from "node:assert/strict";
import { makeHost, pcapRecords } from "../_harness.ts";
import { icmpv6Code, icmpv6Type } from "../../stack/wire/icmpv6.ts";

// Offsets in the captured packet: the Hop-by-Hop options start at 42 (Router
// Alert 42..45, PadN 46..49, PadN 50..55).
const SECOND_PADN = 50;
const FIRST_PADN_BYTE = 48;

function captured(): Uint8Array {
  const records = pcapRecords("linux-probes/tun-scapy_ext6.pcap");
  assert.equal(records.length, 1);
  return new Uint8Array(records[0]!.data);
}

function host() {
  return makeHost({ linkType: 101, addresses: ["fd00:77::2/64"] });
}

Deno.test("ipv6 options: the scapy ext6 packet (10 bytes of padding in a row) is dropped silently as Linux drops it", () => {
  const h = host();
  assert.deepEqual(h.inject(captured()), []);
  assert.equal(h.stack.counters.value("ipv6.rx.bad_option"), 1);
  assert.equal(h.stack.counters.value("ipv6.rx.unknown_option"), 0);
  h.close();
});

Deno.test("ipv6 options: the same chain with its padding run broken reaches UDP (Port Unreachable, as from Linux)", () => {
  const h = host();
  const p = captured();
  p[SECOND_PADN] = 0x1e; // an unknown option of type 00: skipped
  const out = h.inject(p);
  assert.equal(out.length, 1);
  assert.deepEqual([icmpv6Type(out[0]!, 40), icmpv6Code(out[0]!, 40)], [1, 4]);
  assert.equal(h.stack.counters.value("ipv6.rx.bad_option"), 0);
  h.close();
});

Deno.test("ipv6 options: a PadN with a non-zero byte is malformed, dropped silently (RFC 4942 §2.1.9.5, as Linux)", () => {
  const h = host();
  const p = captured();
  p[SECOND_PADN] = 0x1e;
  p[FIRST_PADN_BYTE] = 0x5a;
  assert.deepEqual(h.inject(p), []);
  assert.equal(h.stack.counters.value("ipv6.rx.bad_option"), 1);
  h.close();
});
