/**
 * Every capture fixture (tests/fixtures/pcaps) replays into a host that holds the
 * address its first IPv4 packet goes to (IPv6 for IPv6-only captures): no plugin faults, no leaked packet
 * buffers, every packet accounted for (accepted or dropped by a named
 * reason), and whatever the host sends back reads cleanly in Wireshark.
 */
import assert from "node:assert/strict";
import { runReplay } from "../../cli/replay.ts";
import { parseCapture, type ReplaySummary } from "../../drivers/pcapfile/mod.ts";
import type { Stack } from "../../mod.ts";
import { decodeFrame } from "../../stack/wire/decode.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { gated } from "../_require.ts";
import { SHARED_PCAPS, sharedCaptures } from "../_harness.ts";

const FILES = sharedCaptures();

/**
 * The destination of the capture's first unicast IPv4 packet, as the host's
 * /24; for a capture without one, of its first unicast IPv6 packet, as /64.
 */
function hostAddress(path: string): string | undefined {
  let v6: string | undefined;
  for (const r of parseCapture(Deno.readFileSync(path)).records) {
    const f = decodeFrame(r.data, r.linkType);
    if (f.dst === undefined) continue;
    if (f.protocols.includes("ipv6") && v6 === undefined && !f.dst.startsWith("ff")) {
      v6 = `${f.dst}/64`;
    }
    if (!f.protocols.includes("ipv4")) continue;
    const first = Number(f.dst.split(".")[0]);
    if (first >= 224 || f.dst.endsWith(".255")) continue;
    return `${f.dst}/24`;
  }
  return v6;
}

/** tshark warns about every RST; answering closed ports with RSTs is right. */
const RST_WARNING = /^Connection reset \(RST\)$/;

Deno.test(gated(["tshark"], {
  name: "every corpus capture replays without faults or leaks, its answers tshark-clean",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "netstack-corpus-replay-" });
    try {
      for (const path of FILES) {
        const name = path.slice(SHARED_PCAPS.length + 1);
        await t.step(name, async () => {
          const out = `${dir}/${name.replace("/", "_")}.pcapng`;
          const address = hostAddress(path);
          let summary: ReplaySummary | undefined;
          let faults = -1;
          let leaked = -1;
          let stackRef: Stack | undefined;
          const err: string[] = [];
          const code = await runReplay(
            [path, ...(address ? ["--address", address] : []), "--out", out, "--tail", "10"],
            {
              print: () => {},
              printError: (l) => err.push(l),
              handleSignals: false,
              onSummary: (s, stack) => {
                summary = s;
                stackRef = stack;
                faults = stack.counters.value("dispatcher.plugin_fault");
              },
            },
          );
          leaked = stackRef!.pool.outstanding; // closed by now
          assert.equal(code, 0, err.join("\n"));
          assert.deepEqual(err, []);
          assert.equal(faults, 0, "plugin faults");
          assert.equal(leaked, 0, "packet buffers leaked");
          const s = summary!;
          assert.equal(s.error, null);
          assert.equal(s.replayed, s.read - s.skipped);
          const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
          assert.equal(s.accepted + dropped, s.replayed, "every packet accepted or dropped");
          await assertTsharkClean(out, { allowWarnings: [RST_WARNING] });
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
