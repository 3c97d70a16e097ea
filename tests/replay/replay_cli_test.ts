/**
 * `cli.ts replay` end to end: the summary, --out and --merge files that
 * Wireshark reads cleanly, --filter, --serve with a service registry, the
 * MAC and neighbours taken from the capture, and the exit codes.
 */
import assert from "node:assert/strict";
import { type ReplayCommandOptions, runReplay } from "../../cli/replay.ts";
import type { ServiceRegistry } from "../../cli/up.ts";
import {
  DIRECTION_INBOUND,
  DIRECTION_OUTBOUND,
  parseCapture,
  PcapWriter,
  type ReplaySummary,
} from "../../drivers/pcapfile/mod.ts";
import type { Stack } from "../../mod.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { hasPcap, SHARED_PCAPS } from "../_harness.ts";

const PING4 = `${SHARED_PCAPS}/linux-probes/tun-ping4.pcap`;
const ARPING = `${SHARED_PCAPS}/linux-probes/tap-arping.pcap`;
const ECHO = `${SHARED_PCAPS}/icmp_echo.pcapng`;
const HAVE = hasPcap("linux-probes/tun-ping4.pcap") && hasPcap("linux-probes/tap-arping.pcap") &&
  hasPcap("icmp_echo.pcapng");

interface Run {
  code: number;
  out: string[];
  err: string[];
  summary?: ReplaySummary;
}

async function replay(args: string[], extra: Partial<ReplayCommandOptions> = {}): Promise<Run> {
  const r: Run = { code: 0, out: [], err: [] };
  r.code = await runReplay(args, {
    print: (l) => r.out.push(l),
    printError: (l) => r.err.push(l),
    handleSignals: false,
    onSummary: (s) => void (r.summary = s),
    ...extra,
  });
  return r;
}

async function withTemp<T>(suffix: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "netstack-replay-" });
  try {
    return await fn(`${dir}/out${suffix}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "replay prints what became of every packet and what the host sent",
  ignore: !HAVE,
  async fn() {
    const r = await replay([PING4, "--address", "10.77.0.2/24"]);
    assert.equal(r.code, 0);
    assert.match(
      r.out[0]!,
      /^replay tun-ping4\.pcap \(pcap\): 5 packets read, 5 replayed over 4\.240 s of capture time, in \d+\.\d{3} s$/,
    );
    assert.deepEqual(r.out.slice(1), [
      "accepted  3",
      "  icmp  3",
      "dropped   2",
      "  dispatcher.rx.no_binding (ethertype 0x86dd: 2)  2",
      "sent      3",
      "  icmp echo reply  3",
    ]);
    assert.deepEqual(r.err, []);
  },
});

Deno.test({
  name: "replay --out --merge writes the conversation, pcap in time order, tshark-clean",
  ignore: !HAVE,
  async fn() {
    await withTemp(".pcap", async (out) => {
      const r = await replay([PING4, "--address", "10.77.0.2/24", "--out", out, "--merge"]);
      assert.equal(r.code, 0);
      assert.ok(r.out.includes(`output    ${out} (8 frames)`));
      const recs = parseCapture(await Deno.readFile(out)).records;
      assert.equal(recs.length, 8);
      const times = recs.map((x) => x.timestamp);
      assert.deepEqual(times, [...times].sort((a, b) => a - b));
      assert.deepEqual(recs.map((x) => x.data[20]).slice(1, 7), [8, 0, 8, 0, 8, 0]); // request, reply, …
      await assertTsharkClean(out);
    });
  },
});

Deno.test({
  name: "replay --out FILE.pcapng marks replayed packets inbound and answers outbound",
  ignore: !HAVE,
  async fn() {
    await withTemp(".pcapng", async (out) => {
      const r = await replay([ARPING, "--address", "10.78.0.2/24", "--out", out, "--merge"]);
      assert.equal(r.code, 0);
      const parsed = parseCapture(await Deno.readFile(out));
      assert.equal(parsed.format, "pcapng");
      assert.equal(parsed.interfaces[0]!.name, "eth0");
      const dirs = parsed.records.map((x) => x.direction);
      assert.equal(dirs.filter((d) => d === DIRECTION_INBOUND).length, 10);
      assert.equal(dirs.filter((d) => d === DIRECTION_OUTBOUND).length, 3);
      await assertTsharkClean(out);
    });
  },
});

Deno.test({
  name: "replay takes eth0's MAC and the neighbours from the capture, unless told",
  ignore: !HAVE,
  async fn() {
    // icmp_echo.pcapng: 192.168.100.138 pings 192.168.100.1 at 00:12:80:4b:c0:7f.
    const learned = await replay([ECHO, "--address", "192.168.100.1/24"]);
    assert.equal(learned.summary!.sentBy["icmp echo reply"], 4);
    assert.equal(
      learned.out.at(-1),
      "host      eth0 00:12:80:4b:c0:7f (from the capture), 1 neighbour from the capture",
    );
    // --arp live: the replies wait for ARP answers that never come.
    const live = await replay([ECHO, "--address", "192.168.100.1/24", "--arp", "live"]);
    assert.equal(live.summary!.sentBy["icmp echo reply"], undefined);
    assert.equal(live.summary!.sentBy["arp request"], 3);
    // Another MAC: every unicast frame is for someone else.
    const other = await replay([
      ECHO,
      "--address",
      "192.168.100.1/24",
      "--mac",
      "02:00:00:00:00:09",
    ]);
    assert.equal(other.summary!.dropped["ethernet.rx.not_for_us"], 8);
  },
});

Deno.test({
  name: "replay --filter replays only matching packets",
  ignore: !HAVE,
  async fn() {
    const r = await replay([PING4, "--address", "10.77.0.2/24", "--filter", "icmp and not ip6"]);
    assert.equal(r.code, 0);
    assert.deepEqual([r.summary!.replayed, r.summary!.filtered, r.summary!.accepted], [3, 2, 3]);
    assert.match(r.out[1]!, /^ {2}\(2 left out by the filter\)$/);
  },
});

Deno.test({
  name: "replay --serve starts services from the registry and stops them; unknown names fail",
  ignore: !HAVE,
  async fn() {
    const events: string[] = [];
    const services: ServiceRegistry = {
      probe: {
        description: "records start and stop",
        start(stack: Stack) {
          events.push(`start ${stack.interfaces.list().map((i) => i.name).join(",")}`);
          return { close: () => void events.push("close") };
        },
      },
    };
    const r = await replay([PING4, "--address", "10.77.0.2/24", "--serve", "probe"], { services });
    assert.equal(r.code, 0);
    assert.deepEqual(events, ["start tun0", "close"]);
    const bad = await replay([PING4, "--serve", "probe,http"], { services });
    assert.equal(bad.code, 2);
    assert.equal(bad.err[0], "error: unknown service http for --serve (available: probe)");
    const none = await replay([PING4, "--serve", "echo"]);
    assert.equal(none.err[0], "error: unknown service echo for --serve (available: none yet)");
  },
});

Deno.test("replay of a cut-off capture replays what precedes the cut, names the offset, exits 1", async () => {
  const w = new PcapWriter({ linkType: 101 });
  // Two ICMP echo requests 10.0.0.1 -> 10.0.0.2.
  const echo = new Uint8Array([
    0x45,
    0,
    0,
    28,
    0,
    1,
    0,
    0,
    64,
    1,
    0x66,
    0xde,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    2,
    8,
    0,
    0xf7,
    0xfe,
    0,
    1,
    0,
    0,
  ]);
  w.write({ timestamp: 1_000_000, data: echo });
  w.write({ timestamp: 2_000_000, data: echo });
  const file = w.bytes();
  await withTemp(".pcap", async (path) => {
    await Deno.writeFile(path, file.subarray(0, file.length - 3));
    const r = await replay([path, "--address", "10.0.0.2/24"]);
    assert.equal(r.code, 1);
    assert.deepEqual([r.summary!.replayed, r.summary!.sentBy["icmp echo reply"]], [1, 1]);
    assert.match(
      r.out.join("\n"),
      /note: The capture ends early \(truncated\): Cannot read capture at byte 68: /,
    );
  });
  await withTemp(".pcap", async (path) => {
    await Deno.writeFile(path, new TextEncoder().encode("not a capture"));
    const r = await replay([path]);
    assert.equal(r.code, 1);
    assert.match(
      r.err[0]!,
      /is not a capture this reader understands: Cannot read capture at byte 0: unknown magic/,
    );
  });
});

Deno.test("replay rejects bad options with exit code 2", async () => {
  for (
    const args of [
      [],
      ["a.pcap", "b.pcap"],
      ["x.pcap", "--address", "10.0.0.2"],
      ["x.pcap", "--mac", "01:00:5e:00:00:01"],
      ["x.pcap", "--gateway", "nowhere"],
      ["x.pcap", "--speed", "0"],
      ["x.pcap", "--speed", "2", "--realtime"],
      ["x.pcap", "--tail", "-1"],
      ["x.pcap", "--arp", "maybe"],
      ["x.pcap", "--merge"],
      ["x.pcap", "--filter", "tcp and"],
      ["x.pcap", "--seed", "1.5"],
    ]
  ) {
    const r = await replay(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err[0]!, /^error: /, args.join(" "));
  }
  const help = await replay(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out[0]!, /^Usage: deno run --allow-read --allow-write cli\.ts replay FILE/);
});

Deno.test("replay --plugin and --manifest load plugins by path", async () => {
  // A HELLO frame (plugins/hello_ether: EtherType 0x88b5) to the host's MAC.
  const hello = new Uint8Array([
    2,
    0,
    0,
    0,
    0,
    1,
    2,
    0,
    0,
    0,
    0,
    9,
    0x88,
    0xb5,
    ...new TextEncoder().encode("HELLO there"),
  ]);
  const w = new PcapWriter({ linkType: 1 });
  w.write({ timestamp: 1_000_000, data: hello });
  const plugin = new URL("../../plugins/hello_ether/mod.ts", import.meta.url).pathname;
  await withTemp(".pcap", async (path) => {
    await Deno.writeFile(path, w.bytes());
    const without = await replay([path]);
    assert.deepEqual(without.summary!.unbound, { "ethertype 0x88b5": 1 });
    const r = await replay([path, "--plugin", plugin]);
    assert.equal(r.code, 0, r.err.join("\n"));
    assert.deepEqual(r.summary!.acceptedBy, { hello: 1 });
    assert.equal(r.summary!.sent, 1);
    const manifest = path.replace(/\.pcap$/, ".json");
    await Deno.writeTextFile(
      manifest,
      JSON.stringify({ plugins: ["ethernet", "arp", "ipv4", "icmp", plugin] }),
    );
    const m = await replay([path, "--manifest", manifest]);
    assert.equal(m.code, 0, m.err.join("\n"));
    assert.deepEqual(m.summary!.acceptedBy, { hello: 1 });
  });
});
