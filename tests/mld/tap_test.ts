/**
 * MLD source filters against Linux over a TAP device in a namespace of its
 * own: an MLDv2 Multicast Address and Source Specific Query crafted with
 * scapy is answered with the queried sources the filter hears (RFC 3810
 * §6.2), an MLDv1 query moves the interface to MLDv1 Reports (§8), and
 * tcpdump's capture decodes cleanly in tshark.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { formatMac } from "../../stack/wire/address.ts";
import { pluginsWith } from "../_test_plugins.ts";
import { gated, type Requirement } from "../_require.ts";
import { INTEROP_NEEDS, withDevice } from "../interop/_netns.ts";
import { cleanCaptureRows } from "../interop/_ipv6.ts";
import { eventually } from "../services/_interop.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "scapy", "tshark"];
const STACK_MAC = new Uint8Array([0x02, 0x5e, 0x10, 0x00, 0x00, 0x12]);
const STACK_LL = "fe80::5e10:12";
const GROUP = "ff3e::4321";

Deno.test(gated(NEEDS, {
  name:
    "mld tap: scapy's source-specific MLDv2 query gets IS_IN of the sources heard; an MLDv1 query gets MLDv1 Reports",
  async fn() {
    let rows: string[][] = [];
    await withDevice({
      mode: "tap",
      mac: STACK_MAC,
      // No DAD and no slaac: the link-local address is usable at once (reports leave from it).
      plugins: () =>
        pluginsWith({ ndp: { dadTransmits: 0 } }).filter((e) => e.plugin.manifest.name !== "slaac"),
      checkCapture: async (file) => {
        rows = await cleanCaptureRows(file, "icmpv6.type == 143 || icmpv6.type == 131", [
          "eth.src",
          "ipv6.hlim",
          "icmpv6.type",
          "icmpv6.mldr.mar.record_type",
          "icmpv6.mldr.mar.multicast_address",
          "icmpv6.mldr.mar.source_address",
          "icmpv6.mld.multicast_address",
        ]);
      },
    }, async (h) => {
      const ifindex = h.stack.interfaces.list()[0]!.index;
      h.stack.addAddress(ifindex, `${STACK_LL}/64`);
      const mld = h.stack.service<MulticastGroupsService>("mld.groups")!;
      mld.setFilter(ifindex, GROUP, mld.newHolder(), { mode: "include", sources: ["2001:db8::1"] });
      h.runner.kick();
      const count = (name: string) => h.stack.counters.value(`mld.${name}`);
      assert.ok(await eventually(() => count("tx.reports_v2") === 2, 5), "the joins, twice");
      const send = async (dst: string, mld: string) => {
        const r = await h.exec([
          "/usr/bin/python3",
          "-c",
          "from scapy.all import *\n" +
          `p = Ether(dst='33:33:00:00:43:21')/IPv6(src='fe80::99', dst='${dst}', hlim=1)/` +
          `IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])/${mld}\n` +
          `sendp(p, iface='${h.dev.name}', verbose=0)\n`,
        ], 20);
        assert.equal(r.code, 0, r.stderr);
      };
      await send(
        GROUP,
        `ICMPv6MLQuery2(mrd=300, mladdr='${GROUP}', sources=['2001:db8::1', '2001:db8::9'])`,
      );
      assert.ok(await eventually(() => count("tx.reports_v2") === 3, 5), "the answer");
      await send(GROUP, `ICMPv6MLQuery(mrd=300, mladdr='${GROUP}')`);
      assert.ok(await eventually(() => count("tx.reports_v1") === 1, 5), "an MLDv1 Report");
      assert.equal(count("mode.v1"), 1);
    });
    const ours = rows.filter((r) => r[0] === formatMac(STACK_MAC));
    assert.ok(ours.every((r) => r[1] === "1"), "hop limit 1");
    const groupRows = ours.filter((r) => r[4]?.includes(GROUP) || r[6] === GROUP)
      .map((r) => `${r[2]} ${r[3]} ${r[5] ?? ""} ${r[6] ?? ""}`.trim());
    assert.deepEqual(groupRows, [
      "143 4,5 2001:db8::1", // TO_EX of the link-local's group, ALLOW of ours
      "143 4,5 2001:db8::1",
      "143 1 2001:db8::1", // IS_IN: 2001:db8::9 is not heard
      `131   ${GROUP}`,
    ], ours.join("\n"));
  },
}));
