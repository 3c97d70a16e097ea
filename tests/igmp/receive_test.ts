/**
 * IPv4 receives a multicast destination only when `igmp.groups` accepts it
 * on the arriving interface (RFC 1112 §6.2, filtered per RFC 3376 §3.2):
 * 224.0.0.1 always, a joined group from an allowed source, IGMP itself for
 * any joined group; anything else is `ipv4.rx.not_for_us`.
 */
import assert from "node:assert/strict";
import { checksum, ipv4Packet, ms } from "../_harness.ts";
import type { MulticastGroupsService, UdpService } from "../../stack/services.ts";
import { igmpHost } from "./_igmp.ts";

/** A UDP datagram from `src`:5000 to `dst`:5000, UDP checksum 0 (none, RFC 768). */
function udp4(src: string, dst: string, payload: number[]): Uint8Array {
  const len = 8 + payload.length;
  return ipv4Packet(
    { src, dst, protocol: 17 },
    new Uint8Array([0x13, 0x88, 0x13, 0x88, len >> 8, len & 0xff, 0, 0, ...payload]),
  );
}

function host() {
  const h = igmpHost();
  h.runFor(ms(100));
  const igmp = h.stack.service<MulticastGroupsService>("igmp.groups")!;
  const sockets = h.stack.service<UdpService>("udp.sockets")!;
  const s = sockets.open({ family: 4, port: 5000 });
  assert.ok(typeof s !== "string");
  return { h, igmp, s, buf: new Uint8Array(64) };
}

Deno.test("igmp receive: a datagram to a joined group arrives; before the join and after the leave it is not for us", () => {
  const { h, igmp, s, buf } = host();
  h.inject(udp4("10.0.0.9", "239.1.2.3", [1]));
  assert.equal(h.counter("ipv4.rx.not_for_us"), 1);
  igmp.join(h.iface.index, "239.1.2.3");
  h.inject(udp4("10.0.0.9", "239.1.2.3", [1, 2, 3]));
  assert.equal(s.recv(buf), 3);
  h.inject(udp4("10.0.0.9", "239.1.2.4", [4]));
  assert.equal(h.counter("ipv4.rx.not_for_us"), 2, "another group is not ours");
  h.inject(udp4("10.0.0.9", "224.0.0.1", [5]));
  assert.equal(s.recv(buf), 1, "all systems, always");
  igmp.leave(h.iface.index, "239.1.2.3");
  h.inject(udp4("10.0.0.9", "239.1.2.3", [6]));
  assert.equal(h.counter("ipv4.rx.not_for_us"), 3);
  assert.equal(s.recv(buf), -1);
  s.close();
  h.finish();
});

Deno.test("igmp receive: source filters let only allowed sources in (INCLUDE and EXCLUDE)", () => {
  const { h, igmp, s, buf } = host();
  const a = igmp.newHolder();
  igmp.setFilter(h.iface.index, "232.1.1.1", a, { mode: "include", sources: ["10.9.0.1"] });
  h.inject(udp4("10.9.0.1", "232.1.1.1", [1]));
  h.inject(udp4("10.9.0.2", "232.1.1.1", [2]));
  assert.equal(s.recv(buf), 1);
  assert.equal(buf[0], 1);
  assert.equal(s.recv(buf), -1, "10.9.0.2 is not included");
  igmp.setFilter(h.iface.index, "232.1.1.1", a, { mode: "exclude", sources: ["10.9.0.1"] });
  h.inject(udp4("10.9.0.1", "232.1.1.1", [3]));
  h.inject(udp4("10.9.0.2", "232.1.1.1", [4]));
  assert.equal(s.recv(buf), 1);
  assert.equal(buf[0], 4);
  assert.equal(s.recv(buf), -1, "10.9.0.1 is excluded");
  assert.equal(h.counter("ipv4.rx.not_for_us"), 2);
  s.close();
  h.finish();
});

Deno.test("igmp receive: IGMP to a joined group is taken whatever the filter says about its source", () => {
  const { h, igmp, s } = host();
  igmp.setFilter(h.iface.index, "232.1.1.1", igmp.newHolder(), {
    mode: "include",
    sources: ["10.9.0.1"],
  });
  h.runFor(ms(3000));
  const m = new Uint8Array([0x11, 10, 0, 0, 232, 1, 1, 1, 2, 125, 0, 0]);
  new DataView(m.buffer).setUint16(2, checksum(m));
  const ra = new Uint8Array([148, 4, 0, 0]); // RFC 3376 §9.1: v3 queries carry Router Alert
  h.inject(
    ipv4Packet({ src: "10.0.0.254", dst: "232.1.1.1", protocol: 2, ttl: 1, options: ra }, m),
  );
  assert.equal(h.counter("igmp.rx.queries_v3"), 1);
  s.close();
  h.finish();
});

Deno.test("igmp receive: a leave with a remaining member does not stop traffic, and no leave record goes out", () => {
  const { h, igmp, s, buf } = host();
  const a = igmp.newHolder();
  const b = igmp.newHolder();
  const any = { mode: "exclude" as const, sources: [] };
  igmp.setFilter(h.iface.index, "239.1.2.3", a, any);
  igmp.setFilter(h.iface.index, "239.1.2.3", b, any);
  h.runFor(ms(3000));
  h.take();
  assert.equal(
    igmp.setFilter(h.iface.index, "239.1.2.3", a, { mode: "include", sources: [] }),
    false,
  );
  h.runFor(ms(3000));
  assert.equal(h.takeIgmp().length, 0, "the interface state did not change");
  h.inject(udp4("10.0.0.9", "239.1.2.3", [1, 2]));
  assert.equal(s.recv(buf), 2);
  assert.equal(igmp.dropHolder(b), true);
  h.runFor(ms(3000));
  assert.equal(h.takeIgmp().length, 2, "now TO_IN {} twice");
  h.inject(udp4("10.0.0.9", "239.1.2.3", [3]));
  assert.equal(s.recv(buf), -1);
  s.close();
  h.finish();
});
