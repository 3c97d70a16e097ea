/**
 * The IPv6 captures of the corpus replay into a host holding the address
 * they were sent to, without faults or leaked buffers: echo requests
 * (whole, and reassembled from fragments) get replies (fragmented again at
 * the link MTU), a SYN to a dual-stack service gets its SYN-ACK, Neighbor
 * Discovery and MLD are counted as unhandled (no NDP plugin here), and what
 * the host sends reads in tcpdump as it should and in tshark cleanly.
 */
import assert from "node:assert/strict";
import { runReplay } from "../../cli/replay.ts";
import type { ReplaySummary } from "../../drivers/pcapfile/mod.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import { pcapPath } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { gated } from "../_require.ts";

interface Case {
  /** Fixture name. */
  readonly file: string;
  /** Extra arguments (the address first). */
  readonly args: readonly string[];
  /** Frames sent back, by kind. */
  readonly sent: Readonly<Record<string, number>>;
  /** Drops expected, by counter (others must be absent). */
  readonly dropped: Readonly<Record<string, number>>;
  /** tcpdump -n lines of what was sent (no time), in order; a prefix of them. */
  readonly lines: readonly string[];
}

const CASES: readonly Case[] = [
  {
    file: "linux-probes/tun-ping6.pcap",
    args: ["--address", "fd00:77::2/64"],
    sent: { "icmp6 echo reply": 3 },
    dropped: { "ipv6.rx.not_for_us": 1 }, // a Router Solicitation to ff02::2 (we are no router)
    lines: [
      "IP6 fd00:77::2 > fd00:77::1: ICMP6, echo reply, id 1700, seq 1, length 64",
      "IP6 fd00:77::2 > fd00:77::1: ICMP6, echo reply, id 1700, seq 2, length 64",
      "IP6 fd00:77::2 > fd00:77::1: ICMP6, echo reply, id 1700, seq 3, length 64",
    ],
  },
  {
    file: "ipv6_fragments.pcapng",
    args: ["--address", "2001:db8:1:2::1000/64"],
    sent: { "icmp6 echo reply": 5, "ipv6 fragment": 5 },
    dropped: { "ethernet.rx.not_for_us": 11, "ipv6.rx.not_for_us": 1 },
    lines: [
      "IP6 2001:db8:1:2::1000 > 2001:db8:1:2::1003: frag (0|1448) ICMP6, echo reply, id 59968, seq 1, length 1448",
      "IP6 2001:db8:1:2::1000 > 2001:db8:1:2::1003: frag (1448|60)",
    ],
  },
  {
    file: "icmpv6_neighbor_solicitation.pcapng",
    args: ["--address", "2001:db8:1:2::1000/64"],
    sent: { "icmp6 echo reply": 2 },
    dropped: { "ethernet.rx.not_for_us": 4, "icmpv6.rx.ndp_unhandled": 1 },
    lines: [
      "IP6 2001:db8:1:2::1000 > 2001:db8:1:2::1003: ICMP6, echo reply, id 60149, seq 2, length 64",
      "IP6 2001:db8:1:2::1000 > 2001:db8:1:2::1003: ICMP6, echo reply, id 60149, seq 3, length 64",
    ],
  },
  {
    // The IPv6 half: our SYN-ACK has our own sequence numbers, so the
    // recorded client's later segments are out of window (RST answers).
    file: "http_ip4and6.pcapng",
    args: ["--address", "2001:db8:1:2::1000/64", "--serve", "http"],
    sent: { "tcp [S.]": 1, "tcp [R]": 5 },
    dropped: { "ethernet.rx.not_for_us": 8, "ipv4.rx.not_for_us": 6, "tcp.rx.bad_ack": 5 },
    lines: [],
  },
];

/** tshark warns about every RST; answering out-of-window segments with RSTs is right. */
const RST_WARNING = /^Connection reset \(RST\)$/;

Deno.test(gated(["tcpdump", "tshark"], {
  name: "IPv6 captures replay without faults: replies, fragments, SYN-ACK, as tcpdump shows them",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "netstack-replay6-" });
    try {
      for (const c of CASES) {
        await t.step(c.file, async () => {
          const out = `${dir}/${c.file.replace("/", "_")}.pcapng`;
          let summary: ReplaySummary | undefined;
          let faults = -1;
          let leaked = -1;
          const err: string[] = [];
          const code = await runReplay([pcapPath(c.file), ...c.args, "--out", out], {
            services: SERVICES,
            print: () => {},
            printError: (l) => err.push(l),
            handleSignals: false,
            onSummary: (s, stack) => {
              summary = s;
              faults = stack.counters.value("dispatcher.plugin_fault");
              leaked = stack.pool.outstanding;
            },
          });
          assert.equal(code, 0, err.join("\n"));
          assert.deepEqual(err, []);
          assert.equal(faults, 0, "plugin faults");
          assert.ok(leaked <= 0, `${leaked} buffers held`);
          const s = summary!;
          assert.deepEqual(s.sentBy, c.sent);
          assert.deepEqual(s.dropped, c.dropped);
          const lines = await tcpdumpLines(out);
          assert.deepEqual(lines.slice(0, c.lines.length), c.lines);
          await assertTsharkClean(out, { allowWarnings: [RST_WARNING] });
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

async function tcpdumpLines(path: string): Promise<string[]> {
  const r = await new Deno.Command("tcpdump", {
    args: ["-n", "-r", path],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  assert.ok(r.success, `tcpdump -r ${path}`);
  return new TextDecoder().decode(r.stdout).split("\n").filter((l) => l !== "").map((l) =>
    l.replace(/^\S+ /, "")
  );
}
