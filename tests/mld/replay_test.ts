/**
 * The MLD messages of the corpus's `icmpv6.pcap` replayed into a host on
 * their LAN, at their own pace on the virtual clock: another host's MLDv2
 * Reports, then a router's MLDv2 General Query (fe80::b2a8:6eff:fe0c:d4e8
 * to ff02::1, Maximum Response Code 10000, so 10 s), then that host's
 * answers. The host must answer the query as RFC 3810 §6.2 prescribes:
 * Current-State Reports (MODE_IS_EXCLUDE, no sources) for every group it
 * listens to but ff02::1 (§6), from its link-local address to ff02::16
 * (§5.2.13, §5.2.14), hop limit 1 with Router Alert, within the Maximum
 * Response Delay, and no suppression by the other host's MLDv2 Reports
 * (§6: MLDv2 hosts do not suppress).
 */
import assert from "node:assert/strict";
import { makeHost, ms, pcapRecords } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { readMld } from "./_mld.ts";

const ETH = 14;
const IS_EX = 2;
const MLD_QUERY = 130;
const MLD_V2_REPORT = 143;

/** The MLD type of an Ethernet frame (IPv6, Hop-by-Hop, then ICMPv6), or -1. */
function mldTypeOf(f: Uint8Array): number {
  if (f[12] !== 0x86 || f[13] !== 0xdd || f[ETH + 6] !== 0) return -1;
  if (f[ETH + 40] !== 58) return -1;
  const at = ETH + 40 + (f[ETH + 41]! + 1) * 8;
  const t = f[at]!;
  return t === MLD_QUERY || (t >= 131 && t <= 132) || t === MLD_V2_REPORT ? t : -1;
}

function replay(seed: number) {
  const h = makeHost({
    seed,
    addresses: ["fe80::2:1/64", "2001:db8:1::2:1/64", "2001:db8:1::77/64"],
    etherTypes: [0x86dd],
  });
  const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
  assert.equal(mld.join(h.iface.index, "ff02::fb"), true);
  assert.equal(mld.join(h.iface.index, "ff05::1:3"), true);
  h.runFor(ms(10_000)); // DAD done: the link-local address is usable; the joins' reports sent
  h.take();
  const records = pcapRecords("icmpv6.pcap").filter((r) => mldTypeOf(r.data) !== -1);
  assert.deepEqual(records.map((r) => mldTypeOf(r.data)), [143, 130, 143, 143]);
  const t0 = h.net.now();
  const first = records[0]!.timestamp;
  let queryAt = -1;
  const n = h.history.length;
  for (const r of records) {
    h.runFor(t0 + (r.timestamp - first) - h.net.now());
    if (mldTypeOf(r.data) === MLD_QUERY) queryAt = h.net.now();
    h.inject(r.data);
  }
  h.runFor(ms(30_000));
  const ours = h.history.slice(n).filter((x) => mldTypeOf(x.bytes) !== -1)
    .map((x) => ({ at: x.at, mld: readMld(x.bytes.subarray(ETH)), dst: x.bytes.subarray(0, 6) }));
  const groups = mld.list().filter((g) => g.ifindex === h.iface.index).map((g) => g.group);
  return { h, queryAt, ours, groups };
}

Deno.test("mld replay icmpv6.pcap: the router's General Query is answered with IS_EX records for the host's groups (never ff02::1) within 10 s, whatever the seed", () => {
  const delays: number[] = [];
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const { h, queryAt, ours, groups } = replay(seed);
    assert.ok(queryAt > 0);
    assert.equal(h.counter("mld.rx.queries_v2"), 1, `seed ${seed}: the query reached MLD`);
    assert.equal(h.counter("mld.mode.v1"), 0);
    assert.ok(ours.length >= 1, `seed ${seed}: the host answered`);
    const want = groups.filter((g) => g !== "ff02::1").sort();
    // The solicited-node group of every address (SLAAC's own link-local one too) and the two joined.
    const solicited = h.iface.ipv6.map((a) => {
      const b = IpAddress.parse("ff02::1:ff00:0")!.bytes();
      b.set(a.address.subarray(13), 13); // RFC 4291 §2.7.1: the low 24 bits
      return IpAddress.v6(b).toString();
    });
    assert.deepEqual(want, [...new Set([...solicited, "ff02::fb", "ff05::1:3"])].sort());
    assert.ok(want.includes("ff02::1:ff00:77") && want.includes("ff02::1:ff02:1"));
    const linkLocal = h.iface.ipv6.map((a) => IpAddress.v6(a.address).toString())
      .filter((a) => a.startsWith("fe80:"));
    const heard: string[] = [];
    for (const o of ours) {
      assert.ok(
        o.at > queryAt && o.at <= queryAt + ms(10_000),
        `seed ${seed}: answer at +${o.at - queryAt} µs`,
      );
      assert.equal(o.mld.type, MLD_V2_REPORT);
      assert.ok(linkLocal.includes(o.mld.src), `from a link-local address: ${o.mld.src}`);
      assert.equal(o.mld.dst, "ff02::16");
      assert.deepEqual([...o.dst], [0x33, 0x33, 0, 0, 0, 0x16], "to ff02::16's MAC");
      for (const r of o.mld.records) {
        assert.equal(r[0], IS_EX, `seed ${seed}: ${r[1]} is MODE_IS_EXCLUDE`);
        assert.equal(r.length, 2, "no sources");
        heard.push(r[1]);
      }
    }
    assert.deepEqual(heard.sort(), want, `seed ${seed}: each group once, ff02::1 never`);
    delays.push(ours[0]!.at - queryAt);
    h.finish();
  }
  assert.ok(new Set(delays).size > 1, `the delay is random per seed: ${delays}`);
});
