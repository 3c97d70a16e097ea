/**
 * Hostile IGMP input: random queries and reports of every version (valid
 * checksums, so they reach the plugin) never fault it, and what they make
 * the stack send stays bounded by its own groups.
 */
import assert from "node:assert/strict";
import { checksum, ipv4Packet, ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { SeededRng } from "../../stack/rng.ts";
import { igmpHost, readIgmp } from "./_igmp.ts";

Deno.test("igmp 3000 random IGMP messages never fault the plugin, and answers cover only our groups", () => {
  const h = igmpHost();
  const igmp = h.stack.service<MulticastGroupsService>("igmp.groups")!;
  igmp.join(h.iface.index, "239.1.2.3");
  igmp.setFilter(h.iface.index, "232.1.1.1", igmp.newHolder(), {
    mode: "exclude",
    sources: ["10.9.0.1"],
  });
  h.runFor(ms(3000));
  h.take();
  const rng = new SeededRng(78);
  const dsts = ["224.0.0.1", "239.1.2.3", "232.1.1.1"];
  const groups = [[0, 0, 0, 0], [239, 1, 2, 3], [232, 1, 1, 1], [239, 9, 9, 9]];
  for (let i = 0; i < 3000; i++) {
    const len = [8, 9, 11, 12, 16, 20, rng.range(8, 120)][rng.range(0, 6)]!;
    const m = new Uint8Array(len);
    rng.fill(m);
    m[0] = [0x11, 0x11, 0x11, 0x12, 0x16, 0x17, 0x22, rng.range(0, 255)][rng.range(0, 7)]!;
    if (rng.range(0, 1) === 0) m.set(groups[rng.range(0, 3)]!, 4);
    if (len >= 12 && rng.range(0, 1) === 0) {
      m[10] = 0;
      m[11] = Math.min((len - 12) >> 2, rng.range(0, 3)); // a source count that fits
    }
    m[2] = m[3] = 0;
    new DataView(m.buffer).setUint16(2, checksum(m));
    const dst = dsts[rng.range(0, 2)]!;
    // Mostly with Router Alert and TTL 1, as queries must be to be read (RFC 3376 §9.1).
    const ra = rng.range(0, 3) !== 0 ? { options: new Uint8Array([148, 4, 0, 0]) } : {};
    const ttl = rng.range(0, 7) !== 0 ? 1 : rng.range(2, 255);
    h.inject(
      ipv4Packet({ src: "10.0.0.254", dst, protocol: 2, ttl, ...ra }, m),
      rng.range(0, 2000),
    );
  }
  h.runFor(ms(600_000));
  const c = h.stack.counters.snapshot();
  assert.equal(c["igmp.fault"] ?? 0, 0);
  assert.equal(c["dispatcher.plugin_fault"] ?? 0, 0);
  const queries = (c["igmp.rx.queries_v1"] ?? 0) + (c["igmp.rx.queries_v2"] ?? 0) +
    (c["igmp.rx.queries_v3"] ?? 0);
  assert.ok(queries > 150, `${queries} queries read`);
  assert.ok((c["igmp.rx.no_router_alert"] ?? 0) > 0 && (c["igmp.rx.bad_ttl"] ?? 0) > 0);
  const reported = new Set(
    h.history.filter((x) => x.bytes[0]! >> 4 === 4 && x.bytes[9] === 2)
      .flatMap((x) => readIgmp(x.bytes).records.map(([, g]) => g)),
  );
  assert.deepEqual([...reported].sort(), ["232.1.1.1", "239.1.2.3"], "only our groups");
  h.finish();
});
