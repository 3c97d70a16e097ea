/**
 * `cli.ts up` ({@linkcode runUp}): flags, the service registry, the loopback
 * driver (no privileges needed), and the TUN and TAP drivers against Linux in
 * a private network namespace (`--netns`, `--peer-address`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { gated } from "../_require.ts";
import { runUpWhileReady as up } from "../cli/_up.ts";
import { runUp, UP_HELP, type UpService } from "../../cli/up.ts";
import type { ProtocolPlugin } from "../../mod.ts";
import {
  captureProblems,
  INTEROP_NEEDS,
  ip,
  netnsExec,
  pingCommand,
  pingSummary,
  pingUnanswered,
  withNetns,
} from "./_netns.ts";

/** `up` flags for TUN device tun0 in namespace `ns`, the stack at 10.0.0.2/24. */
function tunIn(ns: string): string[] {
  return ["--driver", "tun", "--ifname", "tun0", "--netns", ns, "--address", "10.0.0.2/24"];
}

Deno.test("up --help documents every flag, with examples", async () => {
  const r = await up(["--help"]);
  assert.equal(r.code, 0);
  const text = r.out.join("\n");
  assert.equal(text, UP_HELP);
  for (
    const flag of [
      "--driver",
      "--ifname",
      "--address",
      "--gateway",
      "--mtu",
      "--mac",
      "--peer-address",
      "--serve",
      "--capture",
      "--plugin",
      "--manifest",
      "--log-level",
      "--netns",
      "--help",
    ]
  ) {
    assert.match(text, new RegExp(`^  (-h, )?${flag} `, "m"), `${flag} is documented`);
  }
  assert.match(text, /^Examples:$/m);
  assert.match(text, /cli\.ts up --driver tun /);
});

Deno.test("up --help lists the services of the registry", async () => {
  const services = { echo: { description: "RFC 862 echo" } };
  const r = await up(["--help"], undefined, { services });
  assert.match(r.out.join("\n"), /Services available: echo$/);
});

Deno.test("up with a bad --driver is a usage error (exit 2)", async () => {
  const r = await up(["--driver", "ppp", "--address", "10.0.0.2/24"]);
  assert.equal(r.code, 2);
  assert.match(r.err[0]!, /--driver must be tun, tap, packet, vxlan or loopback, not "ppp"/);
});

Deno.test("up --driver tun without --address is a usage error (exit 2)", async () => {
  const r = await up(["--driver", "tun"]);
  assert.equal(r.code, 2);
  assert.match(r.err[0]!, /--address is required/);
});

Deno.test("up --serve with an unknown name fails, naming the available services", async () => {
  const services = { echo: { description: "echo" }, discard: { description: "discard" } };
  const r = await up(["--driver", "loopback", "--serve", "echo,gopher"], undefined, { services });
  assert.equal(r.code, 2);
  assert.match(r.err[0]!, /unknown service gopher for --serve \(available: echo, discard\)/);
  assert.deepEqual(r.out, []);
});

Deno.test("up --driver loopback prints ready, pings its virtual peer, then prints counters", async () => {
  let neighbors: string[] = [];
  const r = await up(["--driver", "loopback", "--address", "10.3.0.5/24"], (stack) => {
    neighbors = stack.neighbors().map((n) => `${n.address} ${n.state}`);
    return Promise.resolve();
  });
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(r.out[0], "ready eth0 10.3.0.5/24");
  assert.deepEqual(neighbors, ["10.3.0.1 REACHABLE"]);
  const rest = r.out.slice(1).join("\n");
  assert.match(rest, /^eth0: rx \d+ packets \d+ bytes, tx \d+ packets \d+ bytes$/m);
  assert.match(rest, /^icmp:\n( {2}.*\n)* {2}rx\.echo_replies +1$/m);
  assert.deepEqual(r.err, []);
});

Deno.test("up --serve starts registry services after the stack is up and stops them", async () => {
  const events: string[] = [];
  const marker: ProtocolPlugin = {
    manifest: {
      name: "marker",
      description: "records that it was set up",
      version: "1.0.0",
      api: "^1.0.0",
      layer: "service",
      binds: [],
      counters: [],
    },
    setup() {
      events.push("setup");
      return {};
    },
  };
  const services: Record<string, UpService> = {
    mark: {
      description: "test service",
      plugins: [marker],
      start(stack) {
        events.push(`start ${stack.pluginNames.includes("marker")}`);
        return { close: () => void events.push("close") };
      },
    },
  };
  const r = await up(
    ["--driver", "loopback", "--serve", "mark", "--plugin", "icmp"],
    () => Promise.resolve(void events.push("ready")),
    { services },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.deepEqual(events, ["setup", "start true", "ready", "close"]);
});

Deno.test("up --driver loopback --capture writes a pcap tshark accepts", async () => {
  const file = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    const r = await up(["--driver", "loopback", "--capture", file]);
    assert.equal(r.code, 0, r.err.join("\n"));
    const problems = await captureProblems(file);
    if (problems !== undefined) assert.deepEqual(problems, []);
    assert.ok((await Deno.stat(file)).size > 24, "frames were recorded");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test(gated(INTEROP_NEEDS, {
  name: "up --driver tun --netns NS --peer-address: ready, Linux pings it, counters at the end",
  async fn() {
    await withNetns(async (ns) => {
      let ping = "";
      const r = await up(
        [...tunIn(ns), "--peer-address", "10.0.0.1/24"],
        async () => {
          ping = (await netnsExec(
            ns,
            pingCommand("10.0.0.2", { count: 5, interval: 0.05, deadline: 5 }),
            10,
          ))
            .stdout;
        },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.equal(r.out[0], "ready tun0 10.0.0.2/24");
      assert.deepEqual(pingUnanswered(ping, 5), [], ping);
      // One reply per request (ping sends more than 5 only while a reply is late).
      const replies = Number(/^ {2}tx\.echo_replies +(\d+)$/m.exec(r.out.join("\n"))?.[1]);
      assert.ok(replies >= 5 && replies <= pingSummary(ping).sent, `${replies} echo replies`);
      assert.deepEqual(r.err, [], "the self-check ping to the peer succeeded");
    });
  },
}));

Deno.test(gated([...INTEROP_NEEDS, "curl", "socat", "nc"], {
  name:
    "up --driver tun with IPv6 addresses: Linux keeps its IPv6 and reaches the services over IPv6",
  async fn() {
    await withNetns(async (ns) => {
      let linkLocal = "";
      let page = "";
      let udp = "";
      let ping = "";
      const BYTES = 1_000_000;
      const r = await up(
        [
          ...tunIn(ns),
          "--address",
          "fd00:66::2/64",
          "--peer-address",
          "10.0.0.1/24",
          "--peer-address",
          "fd00:66::1/64",
          "--serve",
          "http,echo,discard",
        ],
        async () => {
          linkLocal = (await netnsExec(ns, ["ip", "-6", "addr", "show", "dev", "tun0"], 5)).stdout;
          page = (await netnsExec(
            ns,
            ["curl", "-sS", "--max-time", "5", "-g", "http://[fd00:66::2]/"],
            10,
          ))
            .stdout;
          udp =
            (await netnsExec(ns, ["sh", "-c", "echo hi6 | socat -T 2 - 'UDP6:[fd00:66::2]:7'"], 10))
              .stdout;
          const nc = await netnsExec(
            ns,
            ["sh", "-c", `head -c ${BYTES} /dev/zero | nc -6 -N -w 3 fd00:66::2 9`],
            15,
          );
          assert.equal(nc.code, 0, nc.stderr);
          ping = (await netnsExec(
            ns,
            pingCommand("fd00:66::2", { count: 3, interval: 0.05, ipv6: true, deadline: 5 }),
            10,
          ))
            .stdout;
        },
        { services: (await import("../../plugins/services/mod.ts")).SERVICES },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.equal(r.out[0], "ready tun0 10.0.0.2/24 fd00:66::2/64");
      // Not quietened any more: Linux made its link-local address on the TUN.
      assert.match(linkLocal, /inet6 fe80::/);
      assert.match(page, /deno-netstack/);
      assert.equal(udp.trim(), "hi6");
      assert.deepEqual(pingUnanswered(ping, 3), [], ping);
      assert.match(
        r.out.join("\n"),
        new RegExp(`^discard:\\n( {2}.*\\n)* {2}bytes +${BYTES}$`, "m"),
      );
    });
  },
}));

Deno.test(gated(INTEROP_NEEDS, {
  name: "up --driver tap --netns NS --peer-address --gateway: Linux pings it over ARP",
  async fn() {
    await withNetns(async (ns) => {
      let ping = "";
      const r = await up(
        [
          "--driver",
          "tap",
          "--netns",
          ns,
          "--address",
          "192.168.7.2/24",
          "--peer-address",
          "192.168.7.1/24",
          "--gateway",
          "192.168.7.1",
          "--mac",
          "02:00:5e:00:00:07",
        ],
        async (stack) => {
          assert.deepEqual(
            stack.routes().find((x) => x.destination === "default")?.gateway,
            "192.168.7.1",
          );
          ping = (await netnsExec(
            ns,
            pingCommand("192.168.7.2", { count: 3, interval: 0.05, deadline: 5 }),
            10,
          ))
            .stdout;
        },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.match(r.out[0]!, /^ready tap\d+ 192\.168\.7\.2\/24$/);
      assert.match(r.out.join("\n"), /^tap\d+: rx .*, tx errors 0$/m);
      assert.deepEqual(pingUnanswered(ping, 3), [], ping);
    });
  },
}));

Deno.test(gated(INTEROP_NEEDS, {
  name: "up --driver tun with a missing namespace fails with exit 1 and a clear message",
  async fn() {
    const r = await up([
      "--driver",
      "tun",
      "--netns",
      "no-such-ns-up-test",
      "--address",
      "10.0.0.2/24",
    ]);
    assert.equal(r.code, 1);
    assert.match(r.err[0]!, /^cli\.ts up: Cannot enter network namespace "no-such-ns-up-test"/);
    assert.equal(r.err.length, 1);
  },
}));

Deno.test("up stops cleanly on SIGTERM (143) and SIGINT (130) after ready, printing its counters", async () => {
  const mod = new URL("../../cli/up.ts", import.meta.url).href;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { runUp } from "${mod}"; Deno.exit(await runUp(["--driver", "loopback"]));`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let out = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 20_000));
    try {
      while (!out.includes("\n")) {
        const chunk = await Promise.race([reader.read(), timeout]);
        if (chunk === "timeout" || chunk.done) break;
        out += decoder.decode(chunk.value);
      }
    } finally {
      clearTimeout(timer);
    }
    assert.match(out, /^ready eth0 10\.0\.0\.2\/24\n/, "ready comes first");
    const killedAt = performance.now();
    child.kill(signal);
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      out += decoder.decode(chunk.value);
    }
    const status = await child.status;
    const took = performance.now() - killedAt;
    const err = decoder.decode(await new Response(child.stderr).arrayBuffer());
    assert.ok(took < 1000, `${signal}: exited ${took.toFixed(0)} ms after the signal`);
    assert.equal(status.code, signal === "SIGINT" ? 130 : 143, `${signal}: ${err}`);
    assert.match(out, /^eth0: rx \d+ packets/m);
    assert.match(out, /^icmp:$/m);
  }
});

Deno.test(gated(INTEROP_NEEDS, {
  name: "up exits with 1 and says why when its device is deleted under it",
  async fn() {
    await withNetns(async (ns) => {
      let deleting: Promise<string> | undefined;
      const err: string[] = [];
      try {
        const stop = new AbortController();
        const timer = setTimeout(() => stop.abort(), 10_000); // bound: the test fails, not hangs
        const code = await runUp(tunIn(ns), {
          handleSignals: false,
          signal: stop.signal,
          print: () => {},
          printError: (l) => err.push(l),
          onReady: () => void (deleting = ip(["link", "del", "tun0"], { netns: ns })),
        });
        clearTimeout(timer);
        assert.equal(code, 1, err.join("\n"));
        assert.match(err.join("\n"), /^cli\.ts up: tun0 stopped: The device descriptor failed/m);
      } finally {
        await deleting;
      }
    });
  },
}));

/** Runs `deno run -A cli.ts ARGS` and returns its exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../cli.ts", import.meta.url).pathname, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}

Deno.test("cli.ts up refuses bad values in one line, exit 2, before creating any device", async () => {
  const ifname = `tunv${Deno.pid % 100000}`;
  const cases: [string[], RegExp][] = [
    [["--address", "foo"], /--address "foo" is not an IPv4 or IPv6 address/],
    [["--address", "300.1.1.1/24"], /--address "300\.1\.1\.1\/24" is not an IPv4 or IPv6/],
    [["--address", "10.0.0.2/33"], /needs a prefix length 0\.\.32/],
    [["--address", "10.0.0.2"], /needs a prefix length/],
    [["--address", "10.0.0.0/24"], /network address/],
    [["--address", "fd00::2/129"], /needs a prefix length 0\.\.128/],
    [["--address", "ff02::1/64"], /not a unicast address/],
    [["--address", "10.0.0.2/24", "--peer-address", "bad"], /--peer-address "bad"/],
    [["--address", "10.0.0.2/24", "--peer-address", "10.0.0.2/24"], /the stack's own address/],
    [["--address", "10.0.0.2/24", "--gateway", "ff02::1"], /not a unicast address/],
    [
      ["--address", "fd00::2/64", "--gateway", "fe80::1", "--gateway", "fe80::2"],
      /one default gateway per IP version/,
    ],
    [["--address", "fd00::2/64", "--peer-address", "fd00::2/64"], /the stack's own address/],
    [["--address", "10.0.0.2/24", "--mtu", "20"], /--mtu must be an integer in 68\.\.65535/],
    [
      ["--address", "10.0.0.2/24", "--capture", `/nonexistent-${Deno.pid}/x.pcap`],
      /does not exist/,
    ],
    [["--address", "10.0.0.2/24", "--manifest", `/nonexistent-${Deno.pid}.json`], /no such file/],
    [["--address", "10.0.0.2/24", "--format", "pcapng"], /--format needs --capture/],
    [["--address", "10.0.0.2/24", "--nope"], /Unknown option '--nope'/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(["up", "--driver", "tun", "--ifname", ifname, ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^cli\.ts up: /);
    assert.match(lines[0]!, message);
  }
  const links = await new Deno.Command("ip", { args: ["-o", "link", "show"], stdout: "piped" })
    .output();
  assert.ok(!new TextDecoder().decode(links.stdout).includes(ifname), "no device was created");
});

Deno.test("up --capture x.pcapng writes pcapng, x.pcap classic pcap", async () => {
  const dir = await Deno.makeTempDir({ prefix: `up-capture-${Deno.pid}-` });
  try {
    for (const [name, magic] of [["a.pcapng", 0x0a0d0d0a], ["a.pcap", 0xa1b2c3d4]] as const) {
      const r = await up(["--driver", "loopback", "--capture", `${dir}/${name}`]);
      assert.equal(r.code, 0, r.err.join("\n"));
      const bytes = await Deno.readFile(`${dir}/${name}`);
      const dv = new DataView(bytes.buffer);
      assert.ok(
        dv.getUint32(0, true) === magic || dv.getUint32(0, false) === magic,
        `${name}: ${dv.getUint32(0).toString(16)}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(gated(INTEROP_NEEDS, {
  name: "up stopping resets an open TCP connection: Linux nc sees it at once",
  async fn() {
    await withNetns(async (ns) => {
      let nc: Deno.ChildProcess | undefined;
      let stoppedAt = 0;
      const r = await up(
        [...tunIn(ns), "--peer-address", "10.0.0.1/24", "--serve", "echo"],
        async (stack) => {
          nc = new Deno.Command("ip", {
            args: ["netns", "exec", ns, "timeout", "10", "nc", "-n", "10.0.0.2", "7"],
            stdin: "piped",
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          for (let i = 0; i < 100; i++) { // at most 5 s
            if (stack.sockets().some((s) => s.state === "ESTABLISHED")) break;
            await new Promise((res) => setTimeout(res, 50));
          }
          assert.ok(stack.sockets().some((s) => s.state === "ESTABLISHED"), "nc connected");
          stoppedAt = performance.now();
        },
        { services: (await import("../../plugins/services/mod.ts")).SERVICES },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.ok(r.out.includes("reset 1 TCP connection"), r.out.join("\n"));
      const status = await nc!.status;
      const waited = performance.now() - stoppedAt;
      await nc!.stdin.close().catch(() => {});
      assert.notEqual(status.code, 124, "nc did not notice the stack stopping");
      assert.ok(waited < 2000, `nc ended ${waited.toFixed(0)} ms after the stop`);
    });
  },
}));

Deno.test("up --log-level debug logs bindings at boot, neighbour and TCP state changes as they happen", async () => {
  const { SERVICES } = await import("../../plugins/services/mod.ts");
  const r = await up(
    ["--driver", "loopback", "--log-level", "debug", "--serve", "echo"],
    async (stack) => {
      // A connection to our own echo service lives for microseconds: every
      // state it passes through is still logged (events, not polling).
      const c = await stack.connect({ hostname: "10.0.0.2", port: 7 }); // the default address
      await c.write(new TextEncoder().encode("hi"));
      await c.read(new Uint8Array(16));
      c.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    { services: SERVICES },
  );
  assert.equal(r.code, 0, r.err.join("\n"));
  const log = r.err.join("\n");
  assert.match(
    log,
    /^\d+\.\d{6} debug tcp: binds ip\.protocol 6, .*provides tcp\.sockets, provides tcp\.congestion$/m,
  );
  assert.match(log, /^\d+\.\d{6} debug arp: binds ethertype 0x806/m);
  assert.match(log, /^\d+\.\d{6} debug debug-log: \(no bindings\)$/m);
  assert.match(log, /^\d+\.\d{6} debug arp: neighbour eth0 10\.0\.0\.1: NONE -> INCOMPLETE$/m);
  assert.match(
    log,
    /^\d+\.\d{6} debug arp: neighbour eth0 10\.0\.0\.1: INCOMPLETE -> REACHABLE 02:[0-9a-f:]+$/m,
  );
  for (
    const t of ["CLOSED -> SYN-SENT", "SYN-SENT -> ESTABLISHED", "SYN-RECEIVED -> ESTABLISHED"]
  ) {
    assert.match(log, new RegExp(`^\\d+\\.\\d{6} debug tcp: connection \\S+ \\S+: ${t}$`, "m"), t);
  }
  const quiet = await up(["--driver", "loopback", "--serve", "echo"], undefined, {
    services: SERVICES,
  });
  assert.doesNotMatch(quiet.err.join("\n"), /debug/);
});
