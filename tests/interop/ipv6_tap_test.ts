/**
 * MLD over a real Linux TAP device (Ethernet) inside a private network
 * namespace: the stack's MLDv2 reports leave to 33:33:00:00:00:16 from its
 * MAC and link-local address, and queries scapy sends as Ethernet frames
 * (General, and Multicast-Address-Specific to the solicited-node group's
 * MAC) are answered within their delay. Unicast IPv6 over TAP needs
 * Neighbor Discovery, another plugin: until it is loaded by default this
 * file maps multicast destinations with a stand-in `neighbor.ipv6` (RFC
 * 2464 §7, no traffic) and sends no unicast. tshark checks every capture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_PLUGINS, type ProtocolPlugin } from "../../mod.ts";
import { formatMac } from "../../stack/wire/address.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { mldPlugin } from "../../stack/protocols/mld/mod.ts";
import { multicastOnlyNeighbors } from "../mld/_mld.ts";
import { gated, type Requirement } from "../_require.ts";
import { runTshark, tsharkProblems } from "../_tshark.ts";
import { INTEROP_NEEDS, withDevice } from "./_netns.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "tshark", "scapy"];
const STACK_MAC = new Uint8Array([0x02, 0x5e, 0x10, 0x00, 0x00, 0x02]);
/** The stack's link-local address (static: preferred at once, no DAD without NDP). */
const STACK_LL = "fe80::5e10:2";

/** The defaults plus ipv6, icmpv6, mld and, when no default resolves IPv6 neighbours, the multicast stand-in. */
function plugins(): ProtocolPlugin[] {
  const names = new Set(DEFAULT_PLUGINS.map((p) => p.manifest.name));
  const more = [ipv6Plugin, icmpv6Plugin, mldPlugin].filter((p) => !names.has(p.manifest.name));
  const ndp = DEFAULT_PLUGINS.some((p) => p.manifest.provides?.includes("neighbor.ipv6"));
  return [...DEFAULT_PLUGINS, ...more, ...(ndp ? [] : [multicastOnlyNeighbors])];
}

/** Waits (at most `seconds`) until `ok()`. */
async function eventually(ok: () => boolean, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 20 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  return ok();
}

Deno.test(gated(NEEDS, {
  name:
    "ipv6 tap: MLDv2 reports go to 33:33:00:00:00:16, and scapy's General and group queries are answered",
  async fn() {
    let rows: string[][] = [];
    await withDevice({
      mode: "tap",
      mac: STACK_MAC,
      plugins,
      checkCapture: async (file) => {
        assert.deepEqual((await tsharkProblems(file)).problems, []);
        const out = await runTshark(file, [
          "-Y",
          "icmpv6.type == 130 || icmpv6.type == 143",
          "-T",
          "fields",
          "-e",
          "frame.time_relative",
          "-e",
          "eth.src",
          "-e",
          "eth.dst",
          "-e",
          "ipv6.src",
          "-e",
          "ipv6.hlim",
          "-e",
          "icmpv6.type",
          "-e",
          "icmpv6.mldr.mar.record_type",
          "-e",
          "icmpv6.mldr.mar.multicast_address",
        ]);
        rows = out.trim().split("\n").map((l) => l.split("\t"));
      },
    }, async (h) => {
      h.stack.addAddress(h.stack.interfaces.list()[0]!.index, `${STACK_LL}/64`);
      h.runner.kick();
      const reports = () => h.stack.counters.value("mld.tx.reports_v2");
      assert.ok(await eventually(() => reports() === 2, 5), "the join and its retransmission");
      const send = (dstMac: string, dst: string, mld: string) =>
        h.exec([
          "/usr/bin/python3",
          "-c",
          "from scapy.all import *\n" +
          `p = Ether(dst='${dstMac}')/IPv6(src='fe80::99', dst='${dst}', hlim=1)/` +
          `IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])/${mld}\n` +
          `sendp(p, iface='${h.dev.name}', verbose=0)\n`,
        ], 20);
      const general = await send("33:33:00:00:00:01", "ff02::1", "ICMPv6MLQuery2(mrd=300)");
      assert.equal(general.code, 0, general.stderr);
      assert.ok(await eventually(() => reports() === 3, 5), "the General Query's answer");
      const group = await send(
        "33:33:ff:10:00:02",
        "ff02::1:ff10:2",
        "ICMPv6MLQuery2(mrd=300, mladdr='ff02::1:ff10:2')",
      );
      assert.equal(group.code, 0, group.stderr);
      assert.ok(await eventually(() => reports() === 4, 5), "the group query's answer");
      assert.equal(h.stack.counters.value("mld.rx.queries_v2"), 2);
      assert.equal(h.stack.counters.value("mld.tx.reports_v2"), 4);
    });
    const mac = formatMac(STACK_MAC);
    const ours = rows.filter((r) => r[1] === mac);
    assert.equal(ours.length, 4, rows.join("\n"));
    for (const r of ours) {
      assert.deepEqual(r.slice(2, 6), ["33:33:00:00:00:16", STACK_LL, "1", "143"]);
      assert.equal(r[7], "ff02::1:ff10:2");
    }
    assert.deepEqual(ours.map((r) => r[6]), ["4", "4", "2", "2"], "joins, then two answers");
    const queries = rows.filter((r) => r[5] === "130").map((r) => Number(r[0]));
    const answers = ours.slice(2).map((r) => Number(r[0]));
    assert.equal(queries.length, 2);
    for (let i = 0; i < 2; i++) {
      const dt = answers[i]! - queries[i]!;
      assert.ok(dt >= 0 && dt <= 0.3 + 0.1, `answer ${i + 1} after ${dt} s`);
    }
  },
}));
