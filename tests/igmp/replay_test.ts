/**
 * The IGMP captures of the corpus replayed into a host on their LAN, at
 * their own pace on the virtual clock:
 *
 * - `IGMP_V2.pcap` (an IGMPv2 querier, other hosts' reports and leaves):
 *   the first v2 query moves the host to IGMPv2 mode, and every query is
 *   answered as RFC 2236 §3 prescribes for each group the host holds: a v2
 *   Report to the group within the query's Max Resp Time, unless another
 *   host's report for that group came first (suppression);
 * - `igmp-v3-v2-reports.pcap` (only reports): a host answers no report,
 *   and v3 hosts never suppress, so nothing is sent and the mode stays v3.
 */
import assert from "node:assert/strict";
import { makeHost, ms, pcapRecords } from "../_harness.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { readIgmp } from "./_igmp.ts";

const ETH = 14;
const dotted = (b: Uint8Array, at: number) => [...b.subarray(at, at + 4)].join(".");

/** IGMP message of an Ethernet frame: [type, group, src, maxResp], or null. */
function igmpOf(f: Uint8Array): [number, string, string, number] | null {
  if (f[12] !== 0x08 || f[13] !== 0 || f[ETH + 9] !== 2) return null;
  const m = ETH + (f[ETH]! & 0x0f) * 4;
  return [f[m]!, dotted(f, m + 4), dotted(f, ETH + 12), f[m + 1]!];
}

function replay(file: string, groups: readonly string[], seed: number) {
  const h = makeHost({ seed, addresses: ["192.168.1.50/24"], etherTypes: [0x0800] });
  const igmp = h.stack.service<MulticastGroupsService>("igmp.groups")!;
  for (const g of groups) igmp.join(h.iface.index, g);
  h.runFor(ms(5000));
  h.take(); // the joins' v3 State Change Reports
  const records = pcapRecords(file);
  const t0 = h.net.now();
  const first = records[0]!.timestamp;
  const sent: { at: number; ours: boolean; msg: [number, string, string, number] }[] = [];
  for (const r of records) {
    h.runFor(t0 + (r.timestamp - first) - h.net.now());
    const msg = igmpOf(r.data);
    if (msg !== null) sent.push({ at: h.net.now() - t0, ours: false, msg });
    h.inject(r.data);
  }
  h.runFor(ms(30_000));
  for (const x of h.history) {
    if (x.at < t0) continue;
    const total = (x.bytes[ETH + 2]! << 8) | x.bytes[ETH + 3]!; // Ethernet pads to 60 bytes
    const r = readIgmp(x.bytes.subarray(ETH, ETH + total)); // TTL 1, Router Alert, checksums
    sent.push({
      at: x.at - t0,
      ours: true,
      msg: [r.type, r.records[0]![1], r.src, 0],
    });
  }
  sent.sort((a, b) => a.at - b.at);
  return { h, sent };
}

Deno.test("igmp replay IGMP_V2.pcap: every v2 query is answered per RFC 2236 §3 for each group held, or suppressed by another host's report", () => {
  const groups = ["225.1.1.3", "225.1.1.5", "239.9.9.9"];
  const totals = { answered: 0, suppressed: 0 };
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    const { h, sent } = replay("IGMP_V2.pcap", groups, seed);
    const ours = sent.filter((s) => s.ours);
    assert.ok(ours.length > 0, `seed ${seed}: the host answered`);
    assert.ok(
      ours.every((s) => s.msg[0] === 0x16),
      `seed ${seed}: only v2 Reports, once a v2 querier is heard`,
    );
    const queries = sent.filter((s) => !s.ours && s.msg[0] === 0x11);
    assert.equal(queries.length, 4);
    let answered = 0, suppressed = 0;
    for (const q of queries) {
      const window = q.msg[3] * ms(100);
      for (const g of groups) {
        if (q.msg[1] !== "0.0.0.0" && q.msg[1] !== g) continue;
        const inWindow = sent.filter((s) => s.at > q.at && s.at <= q.at + window && s.msg[1] === g);
        const mine = inWindow.filter((s) => s.ours);
        const firstOther = inWindow.find((s) =>
          !s.ours && (s.msg[0] === 0x16 || s.msg[0] === 0x12)
        );
        if (mine.length === 1) {
          answered++;
          assert.ok(
            firstOther === undefined || firstOther.at > mine[0]!.at,
            `seed ${seed}: ${g} answered after a report`,
          );
        } else {
          assert.equal(mine.length, 0, `seed ${seed}: at most one answer for ${g}`);
          assert.ok(
            firstOther !== undefined,
            `seed ${seed}: query at ${q.at} µs for ${g}: no answer, no other report`,
          );
          suppressed++;
        }
      }
    }
    // 2 general queries × 3 groups + the group-specific one for 225.1.1.3 (225.1.1.4 is not ours).
    assert.equal(answered + suppressed, 7, `seed ${seed}`);
    totals.answered += answered;
    totals.suppressed += suppressed;
    assert.equal(ours.length, answered, `seed ${seed}: nothing else sent`);
    assert.equal(h.counter("igmp.mode.v2"), 1);
    assert.equal(h.counter("igmp.rx.queries_v2"), 3, "the query sent to 225.1.1.4 is not for us");
    h.finish();
  }
  // 192.168.11.201 reports 225.1.1.3 8.4 s after the first general query and 225.1.1.5 8 s
  // after the second: with some seeds our random delay is longer, and we keep quiet.
  assert.ok(totals.answered > 0 && totals.suppressed > 0, JSON.stringify(totals));
});

Deno.test("igmp replay igmp-v3-v2-reports.pcap: other hosts' reports get no answer and leave the host in v3 mode", () => {
  const { h, sent } = replay("igmp-v3-v2-reports.pcap", ["239.255.255.250", "224.0.0.251"], 1);
  assert.deepEqual(sent.filter((s) => s.ours), []);
  assert.ok(h.counter("igmp.rx.reports") > 0, "the v2 reports to our groups reached IGMP");
  assert.equal(h.counter("igmp.rx.suppressed"), 0);
  assert.equal(h.counter("igmp.mode.v2") + h.counter("igmp.mode.v1"), 0);
  h.finish();
});
