/**
 * `plugins/drop_port` on `cli.ts up` over TUN against packets scapy sends
 * from Linux: IPv6 TCP SYNs carrying a Destination Options header (and one
 * with Hop-by-Hop as well) to the blocked port get no TCP answer, only
 * ICMPv6 administratively prohibited (RFC 4443 §3.1); the same SYN to the
 * echo port gets its SYN-ACK, so the test can fail. Bytes are read from
 * the stack's capture with tshark (no malformed packet, no bad checksum).
 * The namespace is this test's own (`v6proto` prefix), deleted afterwards.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gated } from "../_require.ts";
import { runUpWhileReady as up } from "../cli/_up.ts";
import { withNetns } from "../../cli/_netns.ts";
import { runTshark } from "../_tshark.ts";
import { eventually } from "../services/_interop.ts";
import { captureProblems, INTEROP_NEEDS, netnsExec } from "./_netns.ts";
import { SERVICES } from "../../plugins/services/mod.ts";

const DROP_PORT = new URL("../../plugins/drop_port/mod.ts", import.meta.url).href;

/** scapy: three SYNs from fd00:66::1 with extension headers, 0.2 s apart. */
const SCAPY = `
from scapy.all import *
import time
dst = IPv6(src='fd00:66::1', dst='fd00:66::2')
pad = [PadN(optdata=b'\\x00\\x00\\x00\\x00')]
for ext, port in ((IPv6ExtHdrDestOpt(options=pad), 9),
                  (IPv6ExtHdrHopByHop(options=pad)/IPv6ExtHdrDestOpt(options=pad), 9),
                  (IPv6ExtHdrDestOpt(options=pad), 7)):
    sendp(dst/ext/TCP(sport=40000 + port, dport=port, flags='S', seq=1000), iface='tun0', verbose=0)
    time.sleep(0.2)
`;

Deno.test(gated([...INTEROP_NEEDS, "scapy", "tshark"], {
  name:
    "drop_port on up --driver tun: IPv6 SYNs behind Destination Options to its port get no TCP answer",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "v6proto-" });
    const manifest = `${dir}/stack.json`;
    const capture = `${dir}/stack.pcap`;
    await Deno.writeTextFile(
      manifest,
      JSON.stringify({
        plugins: [
          "rawip",
          "ipv4",
          "icmp",
          "ipv6",
          "icmpv6",
          "udp",
          "tcp",
          { use: DROP_PORT, options: { port: 9 } },
        ],
      }),
    );
    try {
      let blocked = -1;
      await withNetns(async (ns) => {
        const r = await up(
          [
            ...["--driver", "tun", "--ifname", "tun0", "--netns", ns],
            ...["--address", "10.0.0.2/24", "--address", "fd00:66::2/64"],
            ...["--peer-address", "10.0.0.1/24", "--peer-address", "fd00:66::1/64"],
            ...["--manifest", manifest, "--serve", "echo", "--capture", capture],
          ],
          async (stack) => {
            const py = await netnsExec(ns, ["/usr/bin/python3", "-c", SCAPY], 30);
            assert.equal(py.code, 0, py.stderr);
            const count = (name: string) => stack.counters.value(name);
            assert.ok(
              await eventually(() => count("drop_port.input.blocked") === 2, 5),
              `blocked ${count("drop_port.input.blocked")}`,
            );
            // The echo port's SYN-ACK left right after its SYN (Linux resets it).
            await new Promise((r) => setTimeout(r, 300));
            blocked = count("drop_port.input.blocked");
          },
          { services: SERVICES },
        );
        assert.equal(r.code, 0, r.err.join("\n"));
      }, "v6proto");
      assert.equal(blocked, 2);
      // Linux resets the echo port's SYN-ACK (scapy's SYN was no socket's): expected.
      const problems = await captureProblems(capture, [/Connection reset \(RST\)/]);
      if (problems !== undefined) assert.deepEqual(problems, []);
      const rows = (await runTshark(capture, [
        "-Y",
        "tcp || icmpv6.type == 1",
        "-T",
        "fields",
        "-e",
        "ipv6.src",
        "-e",
        "ipv6.nxt",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
        "-e",
        "tcp.flags",
        "-e",
        "icmpv6.type",
        "-e",
        "icmpv6.code",
      ])).split("\n").filter((l) => l.trim() !== "").map((l) => {
        // An ICMPv6 error repeats the fields of the datagram it quotes: the outer ones first.
        const [src, nxt, sport, dport, flags, icmp, code] = l.split("\t").map((f) =>
          f.split(",")[0]!
        );
        return { src, nxt, sport, dport, flags, icmp, code };
      });
      const text = rows.map((r) => JSON.stringify(r)).join("\n");
      const tcp = rows.filter((r) => r.icmp === "");
      // Linux's three SYNs arrived, behind Destination Options (60) or Hop-by-Hop (0).
      assert.deepEqual(
        tcp.filter((r) => r.src === "fd00:66::1" && r.flags === "0x0002").map((r) => [
          r.nxt,
          r.dport,
        ]),
        [["60", "9"], ["0", "9"], ["60", "7"]],
        text,
      );
      // From the stack: one TCP segment, port 7's SYN-ACK; none from port 9.
      assert.deepEqual(
        tcp.filter((r) => r.src === "fd00:66::2").map((r) => [r.sport, r.dport, r.flags]),
        [["7", "40007", "0x0012"]],
        text,
      );
      // Port 9's two SYNs: administratively prohibited, quoting them.
      const refused = rows.filter((r) => r.src === "fd00:66::2" && r.icmp === "1");
      assert.deepEqual(refused.map((r) => [r.code, r.dport]), [["1", "9"], ["1", "9"]], text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
