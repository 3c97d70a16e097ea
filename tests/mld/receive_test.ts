/**
 * Groups joined through `mld.groups` are received: the ipv6 plugin asks the
 * mld plugin's `isMember` for multicast destinations other than all-nodes
 * and the solicited-node groups, so a datagram to a joined group reaches
 * its socket and a Multicast-Address-Specific Query sent to the group
 * itself (RFC 3810 §5.1.15) is answered; a group left, or never joined, is
 * `ipv6.rx.not_for_us` again.
 */
import assert from "node:assert/strict";
import { ms, onesSum } from "../_harness.ts";
import type { MulticastGroupsService, UdpService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { k, mldHost, query, readMld } from "./_mld.ts";

/** A UDP datagram over IPv6 from fe80::99:5353 to `dst`:5353 (checksum by the harness's own sum). */
function udp6(dst: string, payload: number[]): Uint8Array {
  const len = 8 + payload.length;
  const p = new Uint8Array(40 + len);
  writeIpv6Header(p, 0, len, 17, 255, k("fe80::99"), k(dst));
  p.set([0x14, 0xe9, 0x14, 0xe9, len >> 8, len & 0xff, 0, 0, ...payload], 40);
  const pseudo = new Uint8Array(40);
  pseudo.set(p.subarray(8, 40), 0);
  pseudo[34] = len >> 8;
  pseudo[35] = len & 0xff;
  pseudo[39] = 17;
  const sum = ~onesSum(p.subarray(40), onesSum(pseudo)) & 0xffff;
  p[46] = sum >> 8;
  p[47] = sum & 0xff;
  return p;
}

Deno.test("mld receive: a datagram to a joined group reaches its socket; before the join and after the leave it is not for us", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  h.runFor(ms(2000));
  const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
  const sockets = h.stack.service<UdpService>("udp.sockets")!;
  const s = sockets.open({ family: 6, port: 5353 });
  assert.ok(typeof s !== "string");
  const buf = new Uint8Array(64);
  h.inject(udp6("ff02::fb", [1]));
  assert.equal(h.counter("ipv6.rx.not_for_us"), 1);
  assert.equal(s.recv(buf), -1);
  mld.join(h.iface.index, "ff02::fb");
  h.inject(udp6("ff02::fb", [1, 2, 3]));
  assert.equal(s.recv(buf), 3);
  assert.deepEqual([...buf.subarray(0, 3)], [1, 2, 3]);
  // Another group on the same port is still not ours.
  h.inject(udp6("ff02::fc", [4]));
  assert.equal(h.counter("ipv6.rx.not_for_us"), 2);
  mld.leave(h.iface.index, "ff02::fb");
  h.inject(udp6("ff02::fb", [5]));
  assert.equal(h.counter("ipv6.rx.not_for_us"), 3);
  assert.equal(s.recv(buf), -1);
  s.close();
  h.finish();
});

Deno.test("mld receive: a Multicast-Address-Specific Query sent to a joined user group is answered for that group", () => {
  const h = mldHost({ addresses: ["fe80::1/64"] });
  const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
  mld.join(h.iface.index, "ff05::1:3");
  h.runFor(ms(3000));
  h.take();
  const before = h.counter("mld.rx.queries_v2");
  h.inject(query({ dst: "ff05::1:3", group: "ff05::1:3", maxDelay: 100 }));
  assert.equal(h.counter("mld.rx.queries_v2"), before + 1);
  h.runFor(ms(200));
  const answers = h.take().map(readMld);
  assert.deepEqual(answers.map((a) => a.records), [[[2, "ff05::1:3"]]]);
  assert.equal(IpAddress.parse(answers[0]!.dst)!.toString(), "ff02::16");
  h.finish();
});
