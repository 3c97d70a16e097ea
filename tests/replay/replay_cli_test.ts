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
import { SHARED_PCAPS } from "../_harness.ts";

const PING4 = `${SHARED_PCAPS}/linux-probes/tun-ping4.pcap`;
const ARPING = `${SHARED_PCAPS}/linux-probes/tap-arping.pcap`;
const ECHO = `${SHARED_PCAPS}/icmp_echo.pcapng`;

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
      "  ipv6.rx.not_for_us  2", // two Router Solicitations Linux sent on the TUN
      "sent      3",
      "  icmp echo reply  3",
    ]);
    assert.deepEqual(r.err, []);
  },
});

Deno.test({
  name: "replay --out --merge writes the conversation, pcap in time order, tshark-clean",
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
  async fn() {
    const r = await replay([PING4, "--address", "10.77.0.2/24", "--filter", "icmp and not ip6"]);
    assert.equal(r.code, 0);
    assert.deepEqual([r.summary!.replayed, r.summary!.filtered, r.summary!.accepted], [3, 2, 3]);
    assert.match(r.out[1]!, /^ {2}\(2 left out by the filter\)$/);
  },
});

Deno.test({
  name: "replay --serve starts services from the registry and stops them; unknown names fail",
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
    assert.equal(
      bad.err[0],
      'cli.ts replay: unknown service http for --serve (available: probe) (see "cli.ts replay --help")',
    );
    const none = await replay([PING4, "--serve", "echo"]);
    assert.match(
      none.err[0]!,
      /^cli\.ts replay: unknown service echo for --serve \(available: none yet\)/,
    );
  },
});

Deno.test("replay --serve PATH:PORT loads a service module of one's own; a plugin that is not a service is exit 2", async () => {
  const reverse = new URL("../../plugins/reverse_lines/mod.ts", import.meta.url).pathname;
  let names: readonly string[] = [];
  let listening: string[] = [];
  const r = await runReplay([PING4, "--address", "10.77.0.2/24", "--serve", `${reverse}:7100`], {
    print: () => {},
    printError: () => {},
    handleSignals: false,
    onSummary: (_s, stack) => {
      names = stack.pluginNames;
      listening = stack.sockets().map((s) => s.local);
    },
  });
  assert.equal(r, 0);
  assert.ok(names.includes("reverse_lines-7100"), names.join(" "));
  assert.deepEqual(listening, ["*:7100"]);
  const block = new URL("../../plugins/block_source/mod.ts", import.meta.url).pathname;
  const bad = await replay([PING4, "--serve", block]);
  assert.equal(bad.code, 2);
  assert.match(bad.err[0]!, /^cli\.ts replay: --serve .*block_source.* not "service"/);
});

Deno.test("replay of a cut-off capture replays what precedes the cut, names the offset, exits 1", async () => {
  const w = new PcapWriter({ linkType: 101 });
  // Two ICMP echo requests 10.0.0.1 -> 10.0.0.2.
  w.write({ timestamp: 1_000_000, data: ECHO_REQUEST });
  w.write({ timestamp: 2_000_000, data: ECHO_REQUEST });
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
    // And standard error has the one line decode prints for it (was silent).
    assert.ok(
      r.err.some((l) => /^cli\.ts replay: Cannot read capture at byte 68: /.test(l)),
      r.err.join(" | "),
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

Deno.test("replay rejects bad options with exit code 2 and one line naming the option", async () => {
  const F = import.meta.filename!; // exists: only the option is wrong
  for (
    const [args, message] of [
      [[], /give exactly one capture FILE/],
      [["a.pcap", "b.pcap"], /give exactly one capture FILE/],
      [[F, "--address", "10.0.0.2"], /--address "10\.0\.0\.2" needs a prefix length/],
      [[F, "--address", "fd00::2/129"], /needs a prefix length 0\.\.128/],
      [[F, "--mac", "01:00:5e:00:00:01"], /--mac must be a unicast MAC/],
      [[F, "--gateway", "nowhere"], /--gateway "nowhere" is not an IPv4 or IPv6 address/],
      [[F, "--speed", "0"], /--speed must be a positive number/],
      [[F, "--speed", "2", "--realtime"], /give --realtime or --speed/],
      [[F, "--max-gap=-1"], /--max-gap must be/],
      [[F, "--tail=-1"], /--tail must be/],
      [[F, "--arp", "maybe"], /--arp must be/],
      [[F, "--merge"], /--merge needs --out/],
      [[F, "--format", "pcapng"], /--format needs --out/],
      [[F, "--out", "x.cap", "--format", "erf"], /--format must be pcap or pcapng/],
      [
        [F, "--out", `/nonexistent-${Deno.pid}/o.pcap`],
        /the folder \/nonexistent-\d+ does not exist/,
      ],
      [[F, "--filter", "tcp and"], /--filter: .*ends too early/],
      [[F, "--seed", "1.5"], /--seed must be an integer/],
      [[`/nonexistent-${Deno.pid}.pcap`], /nonexistent-\d+\.pcap: no such file/],
    ] as const
  ) {
    const r = await replay([...args]);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.err.length, 1, r.err.join("\n"));
    assert.match(r.err[0]!, /^cli\.ts replay: /, args.join(" "));
    assert.match(r.err[0]!, message, args.join(" "));
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

/** Runs `deno run -A cli.ts ARGS` with `stdin` bytes; exit code and output. */
async function cli(
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000), // a hang fails the test instead of stalling it
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const r = await child.output();
  return { code: r.code, stdout: r.stdout, stderr: new TextDecoder().decode(r.stderr) };
}

// Echo requests 10.0.0.1 -> 10.0.0.2 on raw IP.
const ECHO_REQUEST = new Uint8Array([
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
]); // deno-fmt-ignore

/** A raw-IP capture of echo requests at `times` (µs). */
function echoCapture(times: readonly number[]): Uint8Array {
  const w = new PcapWriter({ linkType: 101 });
  for (const t of times) w.write({ timestamp: t, data: ECHO_REQUEST });
  return w.bytes();
}

Deno.test("replay --speed caps long gaps at --max-gap and never overflows setTimeout", async () => {
  const day = 86_400e6;
  // A day, then about 30 years: unpaced, --speed 1 would sleep for decades.
  const file = echoCapture([1e6, 1e6 + day, 1e6 + day + 30 * 365 * day]);
  await withTemp(".pcap", async (path) => {
    await Deno.writeFile(path, file);
    for (const speed of ["1", "1000", "0.001"]) {
      const t0 = performance.now();
      const r = await cli([
        "replay",
        path,
        "--address",
        "10.0.0.2/24",
        "--speed",
        speed,
        "--max-gap",
        "0.2",
      ]);
      const took = performance.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning/);
      assert.match(new TextDecoder().decode(r.stdout), /3 packets read, 3 replayed/);
      assert.ok(took < 10_000, `--speed ${speed} took ${took.toFixed(0)} ms`);
      assert.ok(took > 400, `--speed ${speed} waited (2 gaps of 0.2 s): ${took.toFixed(0)} ms`);
    }
  });
});

Deno.test("replay on SIGTERM/SIGINT closes a valid --out capture, prints its summary, exits 143/130", async () => {
  // Twenty requests one second apart, paced in real time: about 19 s in all,
  // so a start-up slowed by a loaded machine still leaves packets to replay.
  const file = echoCapture(Array.from({ length: 20 }, (_, i) => 1e6 * (i + 1)));
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    await withTemp(".pcap", async (out) => {
      const input = out.replace(/out\.pcap$/, "in.pcap");
      await Deno.writeFile(input, file);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../cli.ts", import.meta.url).pathname,
          "replay",
          input,
          "--address",
          "10.0.0.2/24",
          "--speed",
          "1",
          "--out",
          out,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await new Promise((r) => setTimeout(r, 4000)); // start-up, then a packet or two
      child.kill(signal);
      const r = await child.output();
      const stdout = new TextDecoder().decode(r.stdout);
      assert.equal(r.code, signal === "SIGTERM" ? 143 : 130, new TextDecoder().decode(r.stderr));
      assert.match(stdout, /stopped early/);
      const m = /(\d+) replayed/.exec(stdout);
      assert.ok(m !== null && Number(m[1]) >= 1 && Number(m[1]) < 20, stdout);
      const parsed = parseCapture(await Deno.readFile(out));
      assert.equal(parsed.format, "pcap");
      assert.equal(parsed.records.length, Number(m![1]), "one reply per replayed request");
    });
  }
});

Deno.test("replay - reads standard input; --out - writes the capture to standard output", async () => {
  const file = echoCapture([1e6, 2e6]);
  const r = await cli(["replay", "-", "--address", "10.0.0.2/24", "--out", "-"], file);
  assert.equal(r.code, 0, r.stderr);
  const parsed = parseCapture(r.stdout);
  assert.equal(parsed.format, "pcap");
  assert.equal(parsed.records.length, 2);
  assert.match(r.stderr, /^replay \(stdin\) \(pcap\): 2 packets read, 2 replayed/m);
  const ng = await cli([
    "replay",
    "-",
    "--address",
    "10.0.0.2/24",
    "--out",
    "-",
    "--format",
    "pcapng",
  ], file);
  assert.equal(parseCapture(ng.stdout).format, "pcapng");
});

Deno.test({
  name: "replay --out x.pcap of a capture with two link types says to use pcapng, exit 2, no file",
  async fn() {
    // One Ethernet and one raw-IP interface in one pcapng file.
    const ng = new (await import("../../drivers/pcapfile/mod.ts")).PcapngWriter({
      interfaces: [{ linkType: 1 }, { linkType: 101 }],
    });
    ng.write({ timestamp: 1, data: ECHO_REQUEST, interfaceId: 1 });
    await withTemp(".pcap", async (out) => {
      const input = out.replace(/out\.pcap$/, "in.pcapng");
      await Deno.writeFile(input, ng.bytes());
      const r = await replay([input, "--out", out]);
      assert.equal(r.code, 2);
      assert.match(r.err[0]!, /^cli\.ts replay: --out .*only pcapng/);
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
    });
  },
});
