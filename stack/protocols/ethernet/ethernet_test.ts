import assert from "node:assert/strict";
import {
  arpPacket,
  checkArp,
  checkEthernet,
  ethernetFrame,
  type Host,
  type HostOptions,
  makeHost,
  PacketFlags,
  type Probe,
  probePlugin,
  type VlanTag,
} from "../../../tests/_harness.ts";

const US = "02:00:00:00:00:01";
const PEER = "02:00:00:00:00:99";
const OTHER = "02:00:00:00:00:42";
const BROADCAST = "ff:ff:ff:ff:ff:ff";
/** IEEE 802 local experimental EtherType 1: claimed by the probe. */
const EXPERIMENTAL = 0x88b5;

function host(options: HostOptions = {}): { h: Host; probe: Probe } {
  const probe = probePlugin([{ table: "ethertype", key: EXPERIMENTAL }]);
  const h = makeHost({ mac: US, ...options, extraPlugins: [probe.plugin] });
  return { h, probe };
}

function probeFrame(dst: string, tags?: VlanTag[]): Uint8Array {
  return ethernetFrame(
    { dst, src: PEER, etherType: EXPERIMENTAL, ...(tags ? { tags } : {}) },
    new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  );
}

/** An ARP request from PEER for our address 10.0.0.1 (tagged if asked). */
function whoHasUs(dst = BROADCAST, tags?: VlanTag[]): Uint8Array {
  return ethernetFrame(
    { dst, src: PEER, etherType: 0x0806, ...(tags ? { tags } : {}) },
    arpPacket({ operation: 1, senderMac: PEER, senderIp: "10.0.0.9", targetIp: "10.0.0.1" }),
  );
}

Deno.test("ethernet delivers a frame to our MAC with the EtherType as key", () => {
  const { h, probe } = host();
  h.inject(probeFrame(US));
  assert.equal(probe.seen.length, 1);
  assert.equal(probe.seen[0]!.etherType, EXPERIMENTAL);
  assert.deepEqual(probe.seen[0]!.data, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  assert.equal(probe.seen[0]!.flags, 0);
  h.finish();
});

Deno.test("ethernet drops unicast to another MAC as rx.not_for_us", () => {
  const { h, probe } = host();
  assert.deepEqual(h.inject(whoHasUs(OTHER)), []);
  h.inject(probeFrame(OTHER));
  assert.equal(probe.seen.length, 0);
  assert.equal(h.counter("ethernet.rx.not_for_us"), 2);
  assert.deepEqual(h.stack.neighbors(), []);
  h.finish();
});

Deno.test("ethernet accepts unicast to another MAC when promiscuous, flagged LINK_OTHERHOST", () => {
  const { h, probe } = host();
  h.iface.promiscuous = true;
  h.inject(probeFrame(OTHER));
  assert.equal(probe.seen.length, 1);
  assert.equal(probe.seen[0]!.flags & PacketFlags.LINK_OTHERHOST, PacketFlags.LINK_OTHERHOST);
  assert.equal(h.counter("ethernet.rx.not_for_us"), 0);
  h.finish();
});

Deno.test("ethernet flags broadcast and multicast destinations", () => {
  const { h, probe } = host();
  h.inject(probeFrame(BROADCAST));
  h.inject(probeFrame("01:00:5e:00:00:01"));
  h.inject(probeFrame("33:33:00:00:00:01"));
  assert.deepEqual(probe.seen.map((s) => s.flags), [
    PacketFlags.LINK_BROADCAST,
    PacketFlags.LINK_MULTICAST,
    PacketFlags.LINK_MULTICAST,
  ]);
  h.finish();
});

Deno.test("ethernet accepts an 802.1Q priority tag (VID 0) and dispatches the inner type", () => {
  const { h, probe } = host();
  h.inject(probeFrame(US, [{ vid: 0, pcp: 5 }]));
  assert.equal(probe.seen.length, 1);
  assert.equal(probe.seen[0]!.etherType, EXPERIMENTAL);
  assert.deepEqual(probe.seen[0]!.data, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  // A priority-tagged ARP request is answered.
  const out = h.inject(whoHasUs(BROADCAST, [{ vid: 0, pcp: 6 }]));
  assert.equal(out.length, 1);
  checkEthernet({ dst: PEER, etherType: 0x0806 }, checkArp({ operation: 2 }))(out[0]!);
  h.finish();
});

Deno.test("ethernet drops frames tagged with another VLAN as rx.vlan_filtered", () => {
  const { h, probe } = host();
  h.inject(probeFrame(US, [{ vid: 100 }]));
  assert.deepEqual(h.inject(whoHasUs(BROADCAST, [{ vid: 7 }])), []);
  assert.equal(probe.seen.length, 0);
  assert.equal(h.counter("ethernet.rx.vlan_filtered"), 2);
  h.finish();
});

Deno.test("ethernet accepts the VLAN named by the vlan option", () => {
  const { h, probe } = host({ plugins: { ethernet: { vlan: 100 } } });
  h.inject(probeFrame(US, [{ vid: 100 }]));
  h.inject(probeFrame(US, [{ vid: 101 }]));
  h.inject(probeFrame(US));
  assert.equal(probe.seen.length, 2);
  assert.equal(h.counter("ethernet.rx.vlan_filtered"), 1);
  h.finish();
});

Deno.test("ethernet accepts QinQ (802.1ad outer, 802.1Q inner) and filters by either VID", () => {
  const { h, probe } = host({ plugins: { ethernet: { vlan: 20 } } });
  h.inject(probeFrame(US, [{ tpid: 0x88a8, vid: 0 }, { vid: 20 }]));
  h.inject(probeFrame(US, [{ tpid: 0x88a8, vid: 20 }, { vid: 0 }]));
  h.inject(probeFrame(US, [{ tpid: 0x88a8, vid: 30 }, { vid: 20 }]));
  h.inject(probeFrame(US, [{ tpid: 0x88a8, vid: 20 }, { vid: 30 }]));
  assert.equal(probe.seen.length, 2);
  assert.equal(h.counter("ethernet.rx.vlan_filtered"), 2);
  h.finish();
});

Deno.test("ethernet drops a frame with more than two tags as rx.too_many_tags", () => {
  const { h, probe } = host();
  h.inject(probeFrame(US, [{ tpid: 0x88a8, vid: 0 }, { vid: 0 }, { vid: 0 }]));
  assert.equal(probe.seen.length, 0);
  assert.equal(h.counter("ethernet.rx.too_many_tags"), 1);
  assert.equal(h.counter("dispatcher.rx.no_binding"), 0);
  h.finish();
});

Deno.test("ethernet rejects an 802.3 length field as rx.llc_unsupported", () => {
  const { h, probe } = host();
  // 802.2 LLC (DSAP/SSAP 0x42, STP) with a length of 3 instead of an EtherType.
  h.inject(
    ethernetFrame(
      { dst: "01:80:c2:00:00:00", src: PEER, etherType: 3, padTo: 60 },
      new Uint8Array([0x42, 0x42, 0x03]),
    ),
  );
  h.inject(ethernetFrame({ dst: US, src: PEER, etherType: 0x05ff }, new Uint8Array(46)));
  assert.equal(probe.seen.length, 0);
  assert.equal(h.counter("ethernet.rx.llc_unsupported"), 2);
  h.finish();
});

Deno.test("ethernet pads frames shorter than 60 bytes with zeros on send", () => {
  const { h } = host();
  // The gratuitous ARP at start-up was padded too (IPv6's start-up frames are longer).
  checkEthernet({ length: 60, etherType: 0x0806 })(
    h.boot.find((f) => f[12] === 0x08 && f[13] === 0x06)!,
  );
  const padded = h.counter("ethernet.tx.padded");
  const frames = h.counter("ethernet.tx.frames");
  const out = h.inject(whoHasUs());
  assert.equal(out.length, 1);
  const reply = out[0]!;
  checkEthernet({ length: 60, dst: PEER, src: US, etherType: 0x0806 }, checkArp({ operation: 2 }))(
    reply,
  );
  assert.deepEqual(reply.subarray(42), new Uint8Array(18));
  assert.equal(h.counter("ethernet.tx.padded"), padded + 1);
  assert.equal(h.counter("ethernet.tx.frames"), frames + 1);
  h.finish();
});

Deno.test("ethernet leaves short frames unpadded with pad: false", () => {
  const { h } = host({ plugins: { ethernet: { pad: false } } });
  const out = h.inject(whoHasUs());
  checkEthernet({ length: 42 })(out[0]!);
  assert.equal(h.counter("ethernet.tx.padded"), 0);
  h.finish();
});

Deno.test("ethernet drops every truncated prefix of a frame without throwing", () => {
  const { h, probe } = host();
  const untagged = probeFrame(US);
  for (let n = 0; n < 14; n++) h.inject(untagged.subarray(0, n));
  assert.equal(h.counter("ethernet.rx.truncated"), 14);
  // A tag whose inner EtherType is cut off.
  const tagged = probeFrame(US, [{ vid: 0 }]);
  for (let n = 14; n < 18; n++) h.inject(tagged.subarray(0, n));
  assert.equal(h.counter("ethernet.rx.truncated"), 18);
  // A bare header is delivered with an empty payload.
  h.inject(untagged.subarray(0, 14));
  assert.equal(probe.seen.length, 1);
  assert.equal(probe.seen[0]!.data.length, 0);
  assert.equal(h.counter("dispatcher.plugin_fault"), 0);
  h.finish();
});

Deno.test("ethernet sends from the interface MAC with the EtherType given", () => {
  const { h } = host({ mac: "02:12:34:56:78:9a" });
  checkEthernet({ dst: BROADCAST, src: "02:12:34:56:78:9a", etherType: 0x0806, minLength: 60 })(
    h.boot[0]!,
  );
  h.finish();
});
