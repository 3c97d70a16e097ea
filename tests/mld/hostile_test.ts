/**
 * Hostile MLD input: random queries and reports (valid checksums, from the
 * link, so they reach the plugin) never fault it, and what they make the
 * stack send stays bounded by its own groups.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { SeededRng } from "../../stack/rng.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { setIcmpv6Checksum } from "../../stack/wire/icmpv6.ts";
import { writeIpv6Header } from "../../stack/wire/ipv6.ts";
import { mldHost, readMld } from "./_mld.ts";

Deno.test("mld 3000 random MLD messages never fault the plugin, and answers cover only our groups", () => {
  const h = mldHost({ addresses: ["fe80::1/64", "fd00::1/64"] });
  h.runFor(ms(2000));
  h.take();
  const rng = new SeededRng(77);
  const src = IpAddress.parse("fe80::99")!.key;
  const dsts = ["ff02::1", "ff02::1:ff00:1"].map((s) => IpAddress.parse(s)!.key);
  for (let i = 0; i < 3000; i++) {
    const len = [8, 23, 24, 25, 28, 44, 60, rng.range(8, 200)][rng.range(0, 7)]!;
    const p = new Uint8Array(48 + len);
    writeIpv6Header(p, 0, 8 + len, 0, 1, src, dsts[rng.range(0, 1)]!);
    p.set([58, 0, 5, 2, 0, 0, 1, 0], 40);
    rng.fill(p.subarray(48));
    p[48] = [130, 131, 132, 143][rng.range(0, 3)]!;
    if (len >= 24 && rng.range(0, 1) === 0) p.fill(0, 56, 72); // a General Query now and then
    if (len >= 24 && rng.range(0, 2) === 0) {
      p.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1], 56);
    }
    if (len >= 28 && rng.range(0, 1) === 0) p.fill(0, 74, 76); // no sources: a readable MLDv2 query
    setIcmpv6Checksum(p, 0, 48, p.length);
    h.inject(p, rng.range(0, 2000));
  }
  h.runFor(ms(600_000));
  const c = h.stack.counters.snapshot();
  assert.equal(c["mld.fault"] ?? 0, 0);
  assert.equal(c["dispatcher.plugin_fault"] ?? 0, 0);
  assert.ok((c["mld.rx.queries_v2"] ?? 0) + (c["mld.rx.queries_v1"] ?? 0) > 100);
  const groups = new Set(
    h.history.flatMap((x) => readMld(x.bytes).records.map(([, g]) => g)),
  );
  assert.deepEqual([...groups], ["ff02::1:ff00:1"], "only our group is ever reported");
  h.finish();
});
