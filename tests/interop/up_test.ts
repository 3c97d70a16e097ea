/**
 * `cli.ts up` ({@linkcode runUp}): flags, the service registry, the loopback
 * driver (no privileges needed), and the TUN and TAP drivers against Linux in
 * a private network namespace (`--netns`, `--peer-address`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { runUp, UP_HELP, type UpOptions, type UpService } from "../../cli/up.ts";
import type { ProtocolPlugin, Stack } from "../../mod.ts";
import {
  captureProblems,
  explainSkip,
  ip,
  netnsExec,
  pingSummary,
  SKIP_REASON,
  withNetns,
} from "./_netns.ts";

explainSkip("tests/interop/up_test.ts");
const ignore = SKIP_REASON !== undefined;

interface UpRun {
  code: number;
  out: string[];
  err: string[];
}

/** Runs `up` with `args`; `whileReady` runs once it is ready, then the command is stopped. */
async function up(
  args: string[],
  whileReady: (stack: Stack) => Promise<void> = async () => {},
  extra: Partial<UpOptions> = {},
): Promise<UpRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stop = new AbortController();
  const code = await runUp(args, {
    handleSignals: false,
    signal: stop.signal,
    print: (l) => out.push(l),
    printError: (l) => err.push(l),
    onReady: async (stack) => {
      try {
        await whileReady(stack);
      } finally {
        stop.abort();
      }
    },
    ...extra,
  });
  return { code, out, err };
}

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
  assert.match(r.err[0]!, /--driver must be tun, tap or loopback, not "ppp"/);
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

Deno.test({
  name: "up --driver tun --netns NS --peer-address: ready, Linux pings it, counters at the end",
  ignore,
  async fn() {
    await withNetns(async (ns) => {
      let ping = "";
      const r = await up(
        [...tunIn(ns), "--peer-address", "10.0.0.1/24"],
        async () => {
          ping = (await netnsExec(
            ns,
            ["ping", "-n", "-c", "5", "-i", "0.05", "-W", "1", "10.0.0.2"],
            10,
          ))
            .stdout;
        },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.equal(r.out[0], "ready tun0 10.0.0.2/24");
      assert.deepEqual(pingSummary(ping), { sent: 5, received: 5, loss: 0 }, ping);
      assert.match(r.out.join("\n"), /^ {2}tx\.echo_replies +5$/m);
      assert.deepEqual(r.err, [], "the self-check ping to the peer succeeded");
    });
  },
});

Deno.test({
  name: "up --driver tap --netns NS --peer-address --gateway: Linux pings it over ARP",
  ignore,
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
            ["ping", "-n", "-c", "3", "-i", "0.05", "-W", "1", "192.168.7.2"],
            10,
          ))
            .stdout;
        },
      );
      assert.equal(r.code, 0, r.err.join("\n"));
      assert.match(r.out[0]!, /^ready tap\d+ 192\.168\.7\.2\/24$/);
      assert.match(r.out.join("\n"), /^tap\d+: rx .*, tx errors 0$/m);
      assert.deepEqual(pingSummary(ping), { sent: 3, received: 3, loss: 0 }, ping);
    });
  },
});

Deno.test({
  name: "up --driver tun with a missing namespace fails with exit 1 and a clear message",
  ignore,
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
    assert.match(r.err[0]!, /^error: Cannot enter network namespace "no-such-ns-up-test"/);
  },
});

Deno.test("up stops cleanly on SIGTERM and SIGINT after ready, printing its counters", async () => {
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
    child.kill(signal);
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      out += decoder.decode(chunk.value);
    }
    const status = await child.status;
    const err = decoder.decode(await new Response(child.stderr).arrayBuffer());
    assert.equal(status.code, 0, `${signal}: ${err}`);
    assert.match(out, /^eth0: rx \d+ packets/m);
    assert.match(out, /^icmp:$/m);
  }
});

Deno.test({
  name: "up exits with 1 and says why when its device is deleted under it",
  ignore,
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
        assert.match(err.join("\n"), /^error: tun0 stopped: The device descriptor failed/m);
      } finally {
        await deleting;
      }
    });
  },
});
