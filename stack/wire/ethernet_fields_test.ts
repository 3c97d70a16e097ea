import assert from "node:assert/strict";
import { captureFrames } from "../../tests/_frames.ts";
import { EthernetFrame } from "./ethernet.ts";
import {
  ETHERNET_DST_OFFSET,
  ETHERNET_SRC_OFFSET,
  ethernetEtherType,
  setEthernetEtherType,
  VLAN_ID_MASK,
  vlanEtherType,
  vlanTci,
} from "./ethernet_fields.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN } from "./numbers.ts";
import { formatMac } from "./address.ts";
import { dataViewOf } from "./_decode_util.ts";

Deno.test("ethernet accessors read the EtherType and addresses of captured frames", () => {
  // tshark -e eth.type: ARP, IPv4, IPv6
  assert.equal(
    ethernetEtherType(dataViewOf(captureFrames("arp_resolution.pcapng")[0]!), 0),
    ETHERTYPE_ARP,
  );
  const dns = captureFrames("dns_query_response.pcapng")[0]!;
  assert.equal(ethernetEtherType(dataViewOf(dns), 0), ETHERTYPE_IPV4);
  assert.equal(formatMac(dns, ETHERNET_DST_OFFSET), "00:05:5d:21:99:4c");
  assert.equal(formatMac(dns, ETHERNET_SRC_OFFSET), "00:16:ce:6e:8b:24");
  const ns = captureFrames("icmpv6_neighbor_solicitation.pcapng")[0]!;
  assert.equal(ethernetEtherType(dataViewOf(ns), 0), ETHERTYPE_IPV6);
});

Deno.test("ethernet accessors at an offset: a frame inside a larger buffer", () => {
  const dns = captureFrames("dns_query_response.pcapng")[0]!;
  const buf = new Uint8Array(dns.length + 128);
  buf.set(dns, 128); // as in a pooled buffer with headroom
  assert.equal(ethernetEtherType(dataViewOf(buf), 128), ETHERTYPE_IPV4);
  setEthernetEtherType(dataViewOf(buf), 128, ETHERTYPE_ARP);
  assert.deepEqual([buf[140], buf[141]], [0x08, 0x06]);
});

Deno.test("vlan accessors read a tag inserted into a captured frame", () => {
  const dns = captureFrames("dns_query_response.pcapng")[0]!;
  const tagged = new Uint8Array(dns.length + 4);
  tagged.set(dns.subarray(0, 12), 0);
  tagged.set([0x81, 0x00, 0xa0, 0x2a], 12); // priority 5, VLAN 42
  tagged.set(dns.subarray(12), 16);
  assert.equal(ethernetEtherType(dataViewOf(tagged), 0), ETHERTYPE_VLAN);
  assert.equal(vlanTci(dataViewOf(tagged), 12) & VLAN_ID_MASK, 42);
  assert.equal(vlanTci(dataViewOf(tagged), 12) >>> 13, 5);
  assert.equal(vlanEtherType(dataViewOf(tagged), 12), ETHERTYPE_IPV4);
  const view = EthernetFrame.check(tagged);
  assert.ok(typeof view !== "string");
  assert.deepEqual([view.vlanId, view.vlanPriority, view.etherType], [42, 5, ETHERTYPE_IPV4]);
});

Deno.test("ethernet setter rebuilds the captured EtherType byte for byte", () => {
  for (const f of captureFrames("arp_resolution.pcapng")) {
    const copy = f.slice();
    copy.fill(0, 12, 14);
    setEthernetEtherType(dataViewOf(copy), 0, ethernetEtherType(dataViewOf(f), 0));
    assert.deepEqual(copy, f);
  }
});
