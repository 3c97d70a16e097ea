/**
 * `cli.ts decode` on the IPv6 captures, line by line against `tcpdump -n -S
 * -r` (timestamps included, UTC): extension headers (Hop-by-Hop, Routing,
 * Destination Options, Fragment), later fragments, ICMPv6 with Neighbor
 * Discovery and MLD names, TCP and UDP over IPv6, and `--filter ip6`.
 */
import assert from "node:assert/strict";
import { runDecode } from "../../cli/decode.ts";
import { pcapPath } from "../_harness.ts";
import { gated } from "../_require.ts";

const CAPTURES = [
  "icmpv6.pcap", // Router Advertisement, MLDv2 query and reports behind Hop-by-Hop
  "icmpv6_neighbor_solicitation.pcapng", // NS, NA, echo
  "ipv6_fragments.pcapng", // first and later fragments
  "linux-probes/tun-scapy_ext6.pcap", // HBH, DSTOPT, RT6 type 0, Fragment, DSTOPT, UDP
  "linux-probes/tun-curl6.pcap", // TCP SYNs over IPv6
  "linux-probes/tap-ping6tap.pcap", // MLD, RS, NS over Ethernet
] as const;

async function tcpdump(args: string[]): Promise<string[]> {
  const r = await new Deno.Command("tcpdump", {
    args: ["-n", "-S", ...args],
    env: { TZ: "UTC" },
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(r.success, `tcpdump ${args.join(" ")}`);
  return new TextDecoder().decode(r.stdout).split("\n").filter((l) => l !== "");
}

async function decode(args: string[]): Promise<string[]> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDecode(args, { print: (l) => out.push(l), printError: (l) => err.push(l) });
  assert.equal(code, 0, err.join("\n"));
  return out;
}

Deno.test(gated(["tcpdump"], {
  name: "decode prints IPv6 captures as tcpdump -n -S does, line for line",
  async fn(t) {
    for (const name of CAPTURES) {
      await t.step(name, async () => {
        const path = pcapPath(name);
        const theirs = await tcpdump(["-r", path]);
        const ours = await decode([path]);
        assert.ok(theirs.length > 0);
        assert.deepEqual(ours, theirs);
      });
    }
  },
}));

Deno.test(gated(["tcpdump"], {
  name: "decode --filter ip6 keeps the IPv6 half of a mixed capture, as tcpdump ip6 does",
  async fn() {
    for (const name of ["http_ip4and6.pcapng", "raw_ip.pcap"]) {
      const path = pcapPath(name);
      const theirs = await tcpdump(["-r", path, "ip6"]);
      const ours = await decode([path, "--filter", "ip6"]);
      assert.equal(ours.length, theirs.length, name);
      // tcpdump appends HTTP and DNS decodes; the rest is the same.
      for (let i = 0; i < ours.length; i++) {
        assert.ok(
          theirs[i]!.startsWith(ours[i]!),
          `${name} #${i + 1}\n  ${ours[i]}\n  ${theirs[i]}`,
        );
      }
    }
  },
}));
