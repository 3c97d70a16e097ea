/**
 * The Ethernet receive filter (issue #11): IGMP and MLD put the MACs of the
 * groups an interface listens to (RFC 1112 §6.4: 01:00:5e + low 23 bits;
 * RFC 2464 §7: 33:33 + low 32 bits) on its link multicast list,
 * reference-counted like Linux's dev_mc list, and Ethernet drops other
 * IP-mapped multicast frames as `ethernet.rx.multicast_filtered`.
 */
import assert from "node:assert/strict";
import { ethernetFrame, ipv4Packet, makeHost, ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";

const udp = new Uint8Array([0x13, 0x88, 0x13, 0x88, 0, 9, 0, 0, 7]);
const to = (mac: string, dst: string) =>
  ethernetFrame(
    { dst: mac, src: "02:00:00:00:00:fe", etherType: 0x0800 },
    ipv4Packet({ src: "10.0.0.9", dst, protocol: 17 }, udp),
  );

function host() {
  const h = makeHost({});
  h.runFor(ms(100));
  const igmp = h.stack.service<MulticastGroupsService>("igmp.groups")!;
  const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
  return { h, igmp, mld };
}

Deno.test("link filter: a group's MAC is accepted only while a group mapping to it is joined", () => {
  const { h, igmp } = host();
  const i = h.iface.index;
  h.inject(to("01:00:5e:01:02:03", "239.1.2.3"));
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 1);
  igmp.join(i, "239.1.2.3");
  igmp.join(i, "224.1.2.3"); // the same MAC (only 23 bits map)
  assert.equal(h.iface.linkMulticast.get(0x01005e010203), 2);
  h.inject(to("01:00:5e:01:02:03", "239.1.2.3"));
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 1, "taken");
  assert.equal(h.counter("ipv4.rx.delivered"), 1, "delivered to UDP");
  igmp.leave(i, "239.1.2.3");
  h.inject(to("01:00:5e:01:02:03", "239.1.2.3"));
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 1, "224.1.2.3 still holds the MAC");
  assert.equal(h.counter("ipv4.rx.not_for_us"), 1, "…but the group is not ours");
  igmp.leave(i, "224.1.2.3");
  h.inject(to("01:00:5e:01:02:03", "239.1.2.3"));
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 2);
  assert.equal(h.iface.linkMulticast.has(0x01005e010203), false);
  h.finish();
});

Deno.test("link filter: all-systems and the IPv6 groups MLD holds are on the list; all-multicast mode takes every frame", () => {
  const { h, mld } = host();
  const list = [...h.iface.linkMulticast.keys()].map((m) => m.toString(16).padStart(12, "0"));
  assert.ok(list.includes("01005e000001"), `224.0.0.1 in ${list}`);
  assert.ok(list.includes("333300000001"), `ff02::1 in ${list}`);
  assert.equal(h.iface.multicastFilter, 3, "both families filtered");
  mld.join(h.iface.index, "ff02::fb");
  assert.equal(h.iface.linkMulticast.get(0x3333000000fb), 1);
  h.inject(to("01:00:5e:7f:00:01", "239.127.0.1"));
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 1);
  h.iface.allMulticast = true;
  h.inject(to("01:00:5e:7f:00:01", "239.127.0.1"));
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 1, "IFF_ALLMULTI");
  assert.equal(h.counter("ipv4.rx.not_for_us"), 1);
  h.finish();
});

Deno.test("link filter: multicast MACs outside the IP ranges are not filtered", () => {
  const { h } = host();
  h.inject(
    ethernetFrame(
      { dst: "01:80:c2:00:00:0e", src: "02:00:00:00:00:fe", etherType: 0x88cc },
      new Uint8Array(46),
    ),
  );
  assert.equal(h.counter("ethernet.rx.multicast_filtered"), 0);
  assert.equal(h.counter("dispatcher.rx.no_binding"), 1, "LLDP reaches the EtherType table");
  h.finish();
});
