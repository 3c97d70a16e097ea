/**
 * What the IGMP plugin sends reads cleanly in tshark: v3 reports with every
 * record type, v2 and v1 reports, a v2 Leave, each with TTL 1, a Router
 * Alert option and good IPv4 and IGMP checksums, in an Ethernet capture
 * with the RFC 1112 §6.4 multicast MACs.
 */
import assert from "node:assert/strict";
import { makeHost, ms } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { assertTsharkClean, runTshark } from "../_tshark.ts";
import { gated } from "../_require.ts";
import { igmpQuery } from "./_igmp.ts";
import { ethernetFrame } from "../_frames.ts";

/** Wraps a query in Ethernet to 01:00:5e:00:00:01. */
const eth = (ip: Uint8Array) =>
  ethernetFrame({ dst: "01:00:5e:00:00:01", src: "02:00:00:00:00:fe", etherType: 0x0800 }, ip);

Deno.test(gated(["tshark"], {
  name:
    "igmp reports of every version decode cleanly in tshark with TTL 1, Router Alert and valid checksums",
  async fn() {
    const h = makeHost({ capture: true, etherTypes: [0x0800] });
    const igmp = h.stack.service<MulticastGroupsService>("igmp.groups")!;
    const i = h.iface.index;
    const a = igmp.newHolder();
    igmp.join(i, "239.1.2.3");
    igmp.setFilter(i, "232.1.1.1", a, { mode: "include", sources: ["10.9.0.1", "10.9.0.2"] });
    h.runFor(ms(3000));
    igmp.setFilter(i, "232.1.1.1", a, { mode: "include", sources: ["10.9.0.2", "10.9.0.3"] }); // ALLOW, BLOCK
    h.runFor(ms(3000));
    h.inject(eth(igmpQuery({ maxResp: 10 })), ms(2000)); // current state: IS_EX, IS_IN
    const b = igmp.newHolder();
    igmp.setFilter(i, "232.1.1.1", b, { mode: "exclude", sources: ["10.9.0.3"] }); // TO_EX
    h.runFor(ms(3000));
    igmp.dropHolder(b); // TO_IN
    h.runFor(ms(3000));
    h.inject(eth(igmpQuery({ version: 2, maxResp: 10 })), ms(2000));
    igmp.leave(i, "239.1.2.3"); // v2 mode: a Leave to 224.0.0.2
    h.runFor(ms(1000));
    h.inject(eth(igmpQuery({ version: 1 })), ms(11_000));
    const pcap = h.capture!.bytes();
    h.finish();
    await assertTsharkClean(pcap);
    const rows = (await runTshark(pcap, [
      "-Y",
      "igmp && ip.src==10.0.0.1",
      "-o",
      "ip.check_checksum:TRUE",
      "-T",
      "fields",
      "-e",
      "igmp.version",
      "-e",
      "igmp.type",
      "-e",
      "ip.ttl",
      "-e",
      "ip.opt.ra",
      "-e",
      "ip.checksum.status",
      "-e",
      "igmp.checksum.status",
      "-e",
      "igmp.record_type",
      "-e",
      "eth.dst",
    ])).trim().split("\n").map((l) => l.split("\t"));
    assert.ok(rows.length >= 8, `${rows.length} reports`);
    for (const r of rows) {
      assert.equal(r[2], "1", `TTL: ${r}`);
      assert.equal(r[3], "0", `Router Alert value 0: ${r}`);
      assert.equal(r[4], "1", `IPv4 checksum good (1: PROTO_CHECKSUM_E_GOOD): ${r}`);
      assert.equal(r[5], "1", `IGMP checksum good: ${r}`);
    }
    const types = new Set(rows.flatMap((r) => (r[6] ?? "").split(",")).filter((x) => x !== ""));
    assert.deepEqual([...types].sort(), ["1", "2", "3", "4", "5", "6"], "every v3 record type");
    const versions = new Set(rows.map((r) => `${r[0]}/${r[1]}`));
    for (const v of ["3/0x22", "2/0x16", "2/0x17", "1/0x12"]) {
      assert.ok(versions.has(v), `${v} in ${[...versions]}`);
    }
    for (const r of rows.filter((x) => x[1] === "0x22")) assert.equal(r[7], "01:00:5e:00:00:16");
    for (const r of rows.filter((x) => x[1] === "0x17")) assert.equal(r[7], "01:00:5e:00:00:02");
  },
}));
