/**
 * The bottleneck lab (`bench/tcp_lab.ts`) at a test's size: the stack on a
 * TUN device behind a token bucket each way (`tbf` on `tun0`, and on an
 * `ifb` for what the stack sends), and the same bottleneck between two Linux
 * namespaces over a veth pair. Checks what must hold whatever the machine's
 * speed: every transfer arrives whole (byte count and SHA-256, checked by
 * `runLab`), goodput is above zero, the bottleneck drops, and drops toward
 * Linux are repaired by retransmissions the sender counts (the stack's
 * `tcp.retrans_segs`, Linux's `RetransSegs`). No timed assertion: the speed
 * targets live in the benchmark.
 *
 * The capture of `tun0` must be clean in tshark (no malformed packet, no bad
 * checksum); the warnings allowed are TCP analysis of a lossy path: segments
 * the bottleneck dropped before tcpdump saw them, retransmissions tshark
 * takes for out-of-order segments, and Linux's D-SACKs of the stack's
 * spurious retransmissions.
 */
import assert from "node:assert/strict";
import { INTEROP_NEEDS } from "./_netns.ts";
import { gated } from "../_require.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { runLab } from "../../bench/tcp_lab.ts";

const MIB = 1024 * 1024;

Deno.test(gated([...INTEROP_NEEDS, "python3", "tshark", "ethtool"], {
  name: "tcp lab: 4 MiB each way through a 50 Mbit/s tbf with a 6 KiB queue, stack and Linux",
  async fn() {
    const bytes = 4 * MIB;
    // A queue of four segments: the first slow start overflows it for sure.
    const runs = await runLab({
      bytes,
      bottleneck: { rateMbit: 50, burstBytes: 8 * 1024, limitBytes: 6 * 1024 },
      capture: (pcap) =>
        assertTsharkClean(pcap, {
          allowWarnings: [
            /^Previous segment.* not captured/,
            /^ACKed segment that wasn't captured/,
            /^This frame is a \(suspected\) out-of-order segment/,
            /^D-SACK Sequence/,
          ],
        }),
    });
    assert.deepEqual(runs.map((t) => t.name), ["stack→linux", "linux→stack", "refB→A", "refA→B"]);
    for (const t of runs) {
      assert.equal(t.bytes, bytes, t.name);
      assert.ok(t.seconds > 0 && t.mbps > 0, `${t.name}: goodput ${t.mbps} Mbit/s`);
      assert.ok(Number.isInteger(t.retrans) && t.retrans >= 0, `${t.name}: retrans ${t.retrans}`);
      assert.ok(t.drops > 0, `${t.name}: the bottleneck dropped nothing`);
    }
    // Toward Linux the drops are on the receiver's side: the sender repairs them.
    for (const name of ["stack→linux", "refB→A"]) {
      const t = runs.find((x) => x.name === name)!;
      assert.ok(t.retrans > 0, `${name}: ${t.drops} drops but no retransmission counted`);
    }
  },
}));
