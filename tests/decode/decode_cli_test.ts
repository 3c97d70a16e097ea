/**
 * `cli.ts decode` end to end (output lines, -v, --count, --filter, --time,
 * corrupt files, bad options) and the filter language it shares with
 * `replay`.
 */
import assert from "node:assert/strict";
import { compileFilter, runDecode } from "../../cli/decode.ts";
import { PcapngWriter, PcapWriter } from "../../drivers/pcapfile/mod.ts";
import { decodeFrame } from "../../stack/wire/decode.ts";
import { SHARED_PCAPS } from "../_harness.ts";
import { gated } from "../_require.ts";

const PING4 = `${SHARED_PCAPS}/linux-probes/tun-ping4.pcap`;
const HTTP46 = `${SHARED_PCAPS}/http_ip4and6.pcapng`;

async function decode(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDecode(args, { print: (l) => out.push(l), printError: (l) => err.push(l) });
  return { code, out, err };
}

Deno.test({
  name: "decode prints one tcpdump line per packet with the time of day (UTC)",
  async fn() {
    const { code, out } = await decode([PING4]);
    assert.equal(code, 0);
    assert.deepEqual(out, [
      "01:34:21.175457 IP6 fe80::a7e9:f6da:f0b5:29cd > ff02::2: ICMP6, router solicitation, length 8",
      "01:34:22.856140 IP 10.77.0.1 > 10.77.0.2: ICMP echo request, id 1584, seq 1, length 64",
      "01:34:23.367198 IP 10.77.0.1 > 10.77.0.2: ICMP echo request, id 1584, seq 2, length 64",
      "01:34:23.879121 IP 10.77.0.1 > 10.77.0.2: ICMP echo request, id 1584, seq 3, length 64",
      "01:34:25.415029 IP6 fe80::a7e9:f6da:f0b5:29cd > ff02::2: ICMP6, router solicitation, length 8",
    ]);
  },
});

Deno.test({
  name: "decode --time rel counts from the first packet, --time none drops it",
  async fn() {
    const rel = await decode([PING4, "--time", "rel", "-c", "2"]);
    assert.deepEqual(rel.out.map((l) => l.split(" ")[0]), ["0.000000", "1.680683"]);
    const none = await decode([PING4, "--time", "none", "-c", "1"]);
    assert.match(none.out[0]!, /^IP6 /);
  },
});

Deno.test({
  name: "decode --filter and --count select packets, counting after the filter",
  async fn() {
    const { out } = await decode([HTTP46, "--filter", "ip6 and tcp and dst port 80", "-c", "2"]);
    assert.equal(out.length, 2);
    for (const l of out) {
      assert.match(l, /IP6 2001:db8:1:2::1002\.35023 > 2001:db8:1:2::1000\.80: /);
    }
    const arp = await decode([HTTP46, "--filter", "arp"]);
    assert.deepEqual(arp.out, []);
  },
});

Deno.test({
  name: "decode -v prints every header field under the line",
  async fn() {
    const { out } = await decode([HTTP46, "-v", "-c", "1", "--time", "none"]);
    assert.equal(out.length, 4);
    assert.match(out[0]!, /^IP 172\.16\.16\.140\.53350 > 172\.16\.16\.139\.80: Flags \[S\]/);
    assert.match(out[1]!, /^ {4}Ethernet: dst 00:0c:29:1f:a7:55, src 00:0c:29:d3:46:dd/);
    assert.match(
      out[2]!,
      /^ {4}IPv4: .*ttl 64, protocol 6 \(TCP\), checksum 0x[0-9a-f]{4} \(correct\)/,
    );
    assert.match(
      out[3]!,
      /^ {4}TCP: src port 53350, dst port 80, seq 968533976, ack 0, .*wscale 7/,
    );
  },
});

Deno.test("decode reports a cut-off capture with its byte offset and exits 1", async () => {
  const w = new PcapWriter({ linkType: 101 });
  w.write({ timestamp: 1_000_000, data: new Uint8Array([0x45, 0, 0, 20]) });
  w.write({ timestamp: 2_000_000, data: new Uint8Array(40) });
  const file = w.bytes();
  const path = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    await Deno.writeFile(path, file.subarray(0, file.length - 10));
    const { code, out, err } = await decode([path, "--time", "none"]);
    assert.equal(code, 1);
    assert.equal(out.length, 1); // the first packet still prints
    assert.match(err.join("\n"), /^cli\.ts decode: Cannot read capture at byte 44: /);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("decode prints packets of several interfaces and link types (pcapng)", async () => {
  const w = new PcapngWriter();
  const eth = w.addInterface({ linkType: 1 });
  const tun = w.addInterface({ linkType: 101 });
  w.write({ timestamp: 0, data: new Uint8Array(14), interfaceId: eth });
  w.write({ timestamp: 1, data: new Uint8Array([0x60]), interfaceId: tun });
  w.write({
    timestamp: 2,
    data: new Uint8Array(3),
    interfaceId: w.addInterface({ linkType: 147 }),
  });
  const path = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    await Deno.writeFile(path, w.bytes());
    const { code, out } = await decode([path, "--time", "none"]);
    assert.equal(code, 0);
    assert.deepEqual(out, [
      "ethertype Unknown (0x0000), length 0",
      "IP6 [|ip6]",
      "linktype 147, length 3",
    ]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("decode rejects bad options with exit code 2 and one line", async () => {
  const F = import.meta.filename!;
  for (
    const [args, why] of [
      [[], /give exactly one capture FILE/],
      [["a", "b"], /give exactly one capture FILE/],
      [[F, "--count=-1"], /--count must be a whole number/],
      [[F, "--time", "later"], /--time must be/],
      [[F, "--filter", "port nosuchservice"], /--filter: .*not a port number/],
      [[F, "--bogus"], /Unknown option '--bogus'/],
      [["/nonexistent.pcap"], /\/nonexistent\.pcap: no such file/],
    ] as const
  ) {
    const { code, err } = await decode([...args]);
    assert.equal(code, 2, args.join(" "));
    assert.equal(err.length, 1, err.join("\n"));
    assert.match(err[0]!, /^cli\.ts decode: /);
    assert.match(err[0]!, why);
  }
});

Deno.test("decode --help documents the filter language", async () => {
  const { code, out } = await decode(["--help"]);
  assert.equal(code, 0);
  assert.match(out.join("\n"), /host ADDR/);
});

// ---- the filter language ---------------------------------------------------------

// A raw IPv4 TCP segment 10.0.0.1:5000 -> 10.0.0.2:80 and an ARP request.
const TCP = decodeFrame(
  new Uint8Array([
    0x45,
    0,
    0,
    40,
    0,
    1,
    0,
    0,
    64,
    6,
    0,
    0,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    2,
    0x13,
    0x88,
    0,
    80,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x50,
    0x02,
    0xff,
    0xff,
    0,
    0,
    0,
    0,
  ]),
  101,
);
const ARP = decodeFrame(
  new Uint8Array([
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x02,
    0,
    0,
    0,
    0,
    1,
    0x08,
    0x06,
    0x00,
    0x01,
    0x08,
    0x00,
    0x06,
    0x04,
    0x00,
    0x01,
    0x02,
    0,
    0,
    0,
    0,
    1,
    10,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    10,
    0,
    0,
    2,
  ]),
  1,
);

Deno.test("compileFilter() matches protocols, hosts and ports", () => {
  const yes = (e: string, f = TCP) => assert.ok(compileFilter(e)(f), e);
  const no = (e: string, f = TCP) => assert.ok(!compileFilter(e)(f), e);
  yes("tcp");
  yes("ip");
  no("ip6");
  no("udp");
  yes("host 10.0.0.1");
  yes("src host 10.0.0.1");
  no("dst host 10.0.0.1");
  yes("port 80");
  yes("dst port 80");
  no("src port 80");
  yes("arp", ARP);
  yes("host 10.0.0.2", ARP); // ARP's target protocol address
  no("ip", ARP);
  no("port 80", ARP);
  yes("host ::ffff:0:0 or tcp"); // IPv6 addresses parse
});

Deno.test("compileFilter() gives not, and, or tcpdump's precedence", () => {
  const m = (e: string) => compileFilter(e)(TCP);
  assert.equal(m("udp or tcp and port 80"), true); // udp or (tcp and port 80)
  assert.equal(m("udp or tcp and port 81"), false);
  assert.equal(m("(udp or tcp) and not port 81"), true);
  assert.equal(m("not tcp or port 80"), true); // (not tcp) or port 80
  assert.equal(m("! tcp || port 81"), false);
  assert.equal(m("tcp && !udp"), true);
  assert.equal(m("not not tcp"), true);
});

Deno.test("compileFilter() rejects malformed expressions with a reason", () => {
  for (
    const [expr, why] of [
      ["", /empty/],
      ["tcp and", /ends too early/],
      ["(tcp", /missing "\)"/],
      ["tcp)", /unexpected "\)"/],
      ["host", /"host" needs a value/],
      ["host 10.0.0", /not an IPv4 or IPv6 address/],
      ["port 65536", /not a port number/],
      ["src", /"src" needs a value/],
      ["http", /unknown word "http"/],
      ["icmp port 7", /"icmp" has no ports/],
      ["net 10.0.0.0/33", /not a network/],
      ["tcp udp", /unexpected "udp"/],
    ] as const
  ) {
    assert.throws(
      () => compileFilter(expr),
      (e: Error) => e instanceof SyntaxError && why.test(e.message),
      expr,
    );
  }
});

// ---- against tcpdump itself ----------------------------------------------------------

/** How many packets of `file` tcpdump's `-r FILE FILTER` prints. */
async function tcpdumpCount(file: string, filter: string): Promise<number> {
  const r = await new Deno.Command("tcpdump", {
    args: ["-n", "-r", file, filter],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  assert.ok(r.success, `tcpdump ${filter}: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout).split("\n").filter((l) => l !== "").length;
}

const COMPARED = [
  "retransmit-fast009.pcap",
  "http_ip4and6.pcapng",
  "icmp-destunreach-udp.pcap",
  "dns_query_response.pcapng",
  "arp_resolution.pcapng",
  "linux-probes/tap-arping.pcap",
];

Deno.test(gated(["tcpdump"], {
  name: "decode --filter keeps the same packets as tcpdump -r FILE FILTER",
  async fn() {
    const filters = [
      "tcp",
      "udp",
      "icmp",
      "icmp6",
      "arp",
      "ip",
      "ip6",
      "port 80",
      "tcp port 80",
      "udp port 53",
      "port 53 or port 80",
      "port 80 or 53",
      "src port 80",
      "dst port 80",
      "tcp dst port http",
      "portrange 50-90",
      "host 192.168.1.1",
      "src host 10.0.0.1",
      "net 10.0.0.0/8",
      "net 192.168",
      "dst net 192.168.0.0/16",
      "src or dst net 10.0.0.0 mask 255.0.0.0",
      "not tcp",
      "! udp && ip",
      "tcp or udp and not port 53",
      "(tcp || udp) and not port 53",
      "ip6 and not icmp6",
      "ip host 10.77.0.1 or arp",
    ];
    let compared = 0;
    for (const name of COMPARED) {
      const file = `${SHARED_PCAPS}/${name}`;
      // Hosts that occur in the file, so that host filters match something.
      const seen = await decode([file, "--time", "none"]);
      const addr = /IP (\d+\.\d+\.\d+\.\d+)/.exec(seen.out.join("\n"))?.[1];
      const extra = addr === undefined
        ? []
        : [`host ${addr}`, `src ${addr}`, `dst host ${addr} or ${addr}`];
      for (const filter of [...filters, ...extra]) {
        const ours = await decode([file, "--time", "none", "--filter", filter]);
        assert.equal(ours.code, 0, ours.err.join("\n"));
        const theirs = await tcpdumpCount(file, filter);
        assert.equal(ours.out.length, theirs, `${name}: "${filter}"`);
        compared++;
      }
    }
    assert.ok(compared > 100);
  },
}));
