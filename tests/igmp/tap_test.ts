/**
 * IGMP against Linux over a TAP device in a namespace of its own: queries
 * crafted with scapy (IGMPv3 General and Group-and-Source-Specific, then
 * IGMPv2 and IGMPv1 General) get the reports RFC 3376 prescribes (v3
 * current-state records, the queried source heard, then the compatibility
 * modes' v2 and v1 reports), and tcpdump's capture of them decodes cleanly
 * in tshark with TTL 1 and a Router Alert.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { formatMac } from "../../stack/wire/address.ts";
import { gated, type Requirement } from "../_require.ts";
import { INTEROP_NEEDS, LINUX_ADDRESS, withDevice } from "../interop/_netns.ts";
import { cleanCaptureRows } from "../interop/_ipv6.ts";
import { eventually } from "../services/_interop.ts";
import { igmpQuery } from "./_igmp.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "scapy"];
const STACK_MAC = new Uint8Array([0x02, 0x5e, 0x10, 0x00, 0x00, 0x11]);

Deno.test(gated(NEEDS, {
  name:
    "igmp tap: scapy's v3, group-and-source-specific, v2 and v1 queries get the reports RFC 3376 prescribes",
  async fn() {
    let rows: string[][] = [];
    await withDevice({
      mode: "tap",
      mac: STACK_MAC,
      checkCapture: async (file) => {
        rows = await cleanCaptureRows(file, "igmp", [
          "eth.src",
          "eth.dst",
          "ip.ttl",
          "ip.opt.ra",
          "ip.dst",
          "igmp.type",
          "igmp.record_type",
          "igmp.maddr",
          "igmp.saddr",
        ]);
      },
    }, async (h) => {
      const ifindex = h.stack.interfaces.list()[0]!.index;
      const igmp = h.stack.service<MulticastGroupsService>("igmp.groups")!;
      const count = (name: string) => h.stack.counters.value(`igmp.${name}`);
      igmp.join(ifindex, "239.1.2.3");
      igmp.setFilter(ifindex, "232.1.1.1", igmp.newHolder(), {
        mode: "include",
        sources: [LINUX_ADDRESS],
      });
      h.runner.kick();
      assert.ok(await eventually(() => count("tx.reports_v3") === 2, 5), "the joins, twice");
      /** Sends the IP packet `ip` (from tests/igmp/_igmp.ts) out of Linux's TAP with scapy. */
      const send = async (dstMac: string, ip: Uint8Array) => {
        const hex = Array.from(ip, (b) => b.toString(16).padStart(2, "0")).join("");
        const r = await h.exec([
          "/usr/bin/python3",
          "-c",
          "from scapy.all import Ether, Raw, sendp\n" +
          `sendp(Ether(dst='${dstMac}', type=0x0800)/Raw(bytes.fromhex('${hex}')), iface='${h.dev.name}', verbose=0)\n`,
        ], 20);
        assert.equal(r.code, 0, r.stderr);
      };
      const q = { src: LINUX_ADDRESS };
      await send("01:00:5e:00:00:01", igmpQuery({ ...q, maxResp: 5 }));
      assert.ok(
        await eventually(() => count("tx.reports_v3") === 3, 5),
        "the General Query's answer",
      );
      await send(
        "01:00:5e:01:01:01",
        igmpQuery({ ...q, group: "232.1.1.1", sources: [LINUX_ADDRESS, "10.0.0.9"], maxResp: 5 }),
      );
      assert.ok(
        await eventually(() => count("tx.reports_v3") === 4, 5),
        "the source query's answer",
      );
      await send("01:00:5e:00:00:01", igmpQuery({ ...q, version: 2, maxResp: 5 }));
      assert.ok(
        await eventually(() => count("tx.reports_v2") === 2, 5),
        "v2 reports, one per group",
      );
      await send("01:00:5e:00:00:01", igmpQuery({ ...q, version: 1 }));
      assert.ok(await eventually(() => count("tx.reports_v1") === 2, 12), "v1 reports within 10 s");
      assert.equal(count("mode.v2"), 1);
      assert.equal(count("mode.v1"), 1);
    });
    const ours = rows.filter((r) => r[0] === formatMac(STACK_MAC));
    for (const r of ours) {
      assert.equal(r[2], "1", `TTL 1: ${r}`);
      assert.equal(r[3], "0", `Router Alert: ${r}`);
    }
    const what = ours.map((r) => `${r[4]} ${r[5]} ${r[6]} ${r[7]} ${r[8] ?? ""}`);
    assert.deepEqual(what.slice(0, 4), [
      "224.0.0.22 0x22 4,5 239.1.2.3,232.1.1.1 10.0.0.1",
      "224.0.0.22 0x22 4,5 239.1.2.3,232.1.1.1 10.0.0.1",
      "224.0.0.22 0x22 2,1 239.1.2.3,232.1.1.1 10.0.0.1",
      "224.0.0.22 0x22 1 232.1.1.1 10.0.0.1",
    ], what.join("\n"));
    assert.deepEqual(what.slice(4, 6).sort(), [
      "232.1.1.1 0x16  232.1.1.1 ",
      "239.1.2.3 0x16  239.1.2.3 ",
    ]);
    assert.deepEqual(what.slice(6).sort(), [
      "232.1.1.1 0x12  232.1.1.1 ",
      "239.1.2.3 0x12  239.1.2.3 ",
    ]);
  },
}));
