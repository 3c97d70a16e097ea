/**
 * The repository's packetdrill scripts again with TSO on the link (`drill
 * --tso`, as packetdrill's own TUN has it): the stack sends super-segments,
 * and every script must still pass, since the scripts' expectations are
 * Linux's and Linux sends the same with TSO (tail loss probe of the last
 * MSS, RACK's tie-break by end sequence, Nagle on the short tail, RTT from a
 * partly acknowledged super-segment, counters by wire segment:
 * stack/protocols/tcp/tso_split.ts).
 */
import assert from "node:assert/strict";
import { runScript } from "../../drill/mod.ts";
import { drillTests, PASSIVE } from "./_drill.ts";

drillTests(new URL("./scripts/", import.meta.url), { tso: true, prefix: "drill --tso" });

// A super-segment counts as the segments it becomes on the wire, as Linux
// counts tcp_skb_pcount: 10 + 3 new, the probe, the RTO's resend, and a
// go-back-N super-segment of 2 (total_retrans 4); the same with TSO or not.
const COUNTERS = `${PASSIVE}+0 write(4, ..., 10000) = 10000
+0 > P. 1:10001(10000) ack 1
+.1 < . 1:1(0) ack 10001 win 257
+0 %{ assert tcpi_segs_out == 11, tcpi_segs_out }%
+0 write(4, ..., 3000) = 3000
+0 > P. 10001:13001(3000) ack 1
+.202 > P. 12001:13001(1000) ack 1
+.25 > . 10001:11001(1000) ack 1
+.1 < . 1:1(0) ack 11001 win 257
+0 > P. 11001:13001(2000) ack 1
+.1 < . 1:1(0) ack 13001 win 257
+0 %{
assert tcpi_total_retrans == 4, tcpi_total_retrans
assert tcpi_segs_out == 18, tcpi_segs_out
}%
`;

Deno.test("drill --tso: tcpi_segs_out and tcpi_total_retrans count a super-segment's wire segments", () => {
  for (const tso of [true, false]) {
    const r = runScript(COUNTERS, { tso });
    assert.equal(r.status, "passed", `tso ${tso}: line ${r.line}: ${r.message}`);
  }
});
