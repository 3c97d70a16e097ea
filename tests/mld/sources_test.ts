/**
 * MLDv2 source filters (RFC 3810 §4.2, §6.1) through the common
 * `mld.groups` contract: holders' filters merged, ALLOW/BLOCK/TO_IN/TO_EX
 * records with their sources, Multicast Address and Source Specific
 * Queries answered with the sources heard, and IPv6 receive filtering by
 * source.
 */
import assert from "node:assert/strict";
import { ms, onesSum } from "../_harness.ts";
import type { MulticastGroupsService, UdpService } from "../../stack/services.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { k, mldHost, query, readMld } from "./_mld.ts";

const IS_IN = 1;
const TO_IN = 3;
const TO_EX = 4;
const ALLOW = 5;
const BLOCK = 6;

function host() {
  const h = mldHost({ addresses: ["fe80::1/64"], plugins: { mld: { robustness: 1 } } });
  h.runFor(ms(2000));
  h.take();
  const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
  const step = () => {
    h.runFor(ms(10));
    return h.take().map((f) => readMld(f).records);
  };
  return { h, mld, step };
}

Deno.test("mld sources: INCLUDE and EXCLUDE holders merge per RFC 3810 §4.2 and report ALLOW, BLOCK, TO_EX, TO_IN with sources", () => {
  const { h, mld, step } = host();
  const i = h.iface.index;
  const a = mld.newHolder();
  const b = mld.newHolder();
  mld.setFilter(i, "ff3e::1234", a, { mode: "include", sources: ["2001:db8::1", "2001:db8::2"] });
  assert.deepEqual(step(), [[[ALLOW, "ff3e::1234", ["2001:db8::1", "2001:db8::2"]]]]);
  mld.setFilter(i, "ff3e::1234", a, { mode: "include", sources: ["2001:db8::2"] });
  assert.deepEqual(step(), [[[BLOCK, "ff3e::1234", ["2001:db8::1"]]]]);
  mld.setFilter(i, "ff3e::1234", b, { mode: "exclude", sources: ["2001:db8::2", "2001:db8::3"] });
  assert.deepEqual(step(), [[[TO_EX, "ff3e::1234", ["2001:db8::3"]]]]);
  const row = mld.list().find((g) => g.group === "ff3e::1234")!;
  assert.deepEqual([row.family, row.mode, row.sources, row.users], [
    6,
    "exclude",
    ["2001:db8::3"],
    2,
  ]);
  mld.dropHolder(b);
  assert.deepEqual(step(), [[[TO_IN, "ff3e::1234", ["2001:db8::2"]]]]);
  h.finish();
});

Deno.test("mld sources: a Multicast Address and Source Specific Query is answered with the queried sources heard", () => {
  const { h, mld, step } = host();
  const i = h.iface.index;
  mld.setFilter(i, "ff3e::1234", mld.newHolder(), { mode: "include", sources: ["2001:db8::2"] });
  step();
  h.inject(query({
    group: "ff3e::1234",
    dst: "ff3e::1234",
    sources: ["2001:db8::2", "2001:db8::9"],
    maxDelay: 100,
  }));
  h.runFor(ms(200));
  assert.deepEqual(h.take().map((f) => readMld(f).records), [[[IS_IN, "ff3e::1234", [
    "2001:db8::2",
  ]]]]);
  h.inject(
    query({ group: "ff3e::1234", dst: "ff3e::1234", sources: ["2001:db8::9"], maxDelay: 100 }),
  );
  h.runFor(ms(200));
  assert.equal(h.take().length, 0, "nothing heard among the queried sources: no answer");
  h.finish();
});

/** A UDP datagram over IPv6 from `src` port 5353 to `dst` port 5353. */
function udp6(src: string, dst: string, payload: number[]): Uint8Array {
  const len = 8 + payload.length;
  const p = new Uint8Array(40 + len);
  writeIpv6Header(p, 0, len, 17, 255, k(src), k(dst));
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

Deno.test("mld sources: ipv6 receives a joined group only from the sources its filter allows", () => {
  const { h, mld } = host();
  const sockets = h.stack.service<UdpService>("udp.sockets")!;
  const s = sockets.open({ family: 6, port: 5353 });
  assert.ok(typeof s !== "string");
  const buf = new Uint8Array(16);
  mld.setFilter(h.iface.index, "ff3e::1234", mld.newHolder(), {
    mode: "include",
    sources: ["fe80::2"],
  });
  h.inject(udp6("fe80::2", "ff3e::1234", [1]));
  h.inject(udp6("fe80::3", "ff3e::1234", [2]));
  assert.equal(s.recv(buf), 1);
  assert.equal(buf[0], 1);
  assert.equal(s.recv(buf), -1);
  assert.equal(h.counter("ipv6.rx.not_for_us"), 1);
  s.close();
  h.finish();
});
