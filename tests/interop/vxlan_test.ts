/**
 * The VXLAN driver against Linux's own VXLAN device, inside two namespaces
 * the test creates and joins with a veth pair (underlay 192.168.100.0/24):
 * Linux's `vx0` (VNI 42, 10.0.0.1/24) in one, `cli.ts up --driver vxlan`
 * (10.0.0.2/24) in the other. Linux pings and curls the virtual host across
 * the overlay; tshark decodes the outer UDP and the inner frames captured on
 * the veth. Then two `cli.ts up --driver vxlan` processes ping each other.
 *
 * Offloads are turned off on the veth ends (as in packet_test.ts) so the
 * capture holds finished checksums.
 *
 * Last, a virtual switch bridged to VXLAN joins two in-memory networks in
 * two processes (this file run with `deno run`, one per namespace, is that
 * process: see {@linkcode bridgeChild}).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, SystemClock } from "../../mod.ts";
import { bridgeToDevice, realTimeNetwork, VirtualNetwork } from "../../drivers/loopback/mod.ts";
import { openVxlan } from "../../drivers/vxlan/mod.ts";
import { RealTimeRunner } from "../../drivers/tun/mod.ts";
import { INTEROP_NEEDS, ip, netnsExec, pingUnanswered, startTcpdump, withNetns } from "./_netns.ts";
import { gated } from "../_require.ts";
import { assertTsharkClean, runTshark } from "../_tshark.ts";

const NEEDS = [...INTEROP_NEEDS, "ping", "curl", "tshark", "scapy"] as const;
const UNDER_A = "192.168.100.1";
const UNDER_B = "192.168.100.2";
const MAC = "02:00:5e:00:00:42";
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** ETHTOOL_STXCSUM, ETHTOOL_STSO, ETHTOOL_SGSO to 0 (`ethtool -K dev tx off tso off gso off`). */
const OFFLOADS_OFF = `
import array, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cmd in (0x17, 0x1f, 0x24):
    buf = array.array("B", struct.pack("II", cmd, 0))
    ifr = struct.pack("16sQ", sys.argv[1].encode(), buf.buffer_info()[0]) + bytes(16)
    fcntl.ioctl(s.fileno(), 0x8946, ifr)
`;

/** `va` in `a` (192.168.100.1) ↔ `vb` in `b` (192.168.100.2). */
async function underlay(a: string, b: string): Promise<void> {
  await ip(["link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b], { netns: a });
  for (const [ns, dev, addr] of [[a, "va", UNDER_A], [b, "vb", UNDER_B]] as const) {
    await ip(["link", "set", dev, "addrgenmode", "none"], { netns: ns });
    await ip(["addr", "add", `${addr}/24`, "dev", dev], { netns: ns });
    await ip(["link", "set", dev, "up"], { netns: ns });
    await ip(["link", "set", "lo", "up"], { netns: ns });
    const r = await netnsExec(ns, ["/usr/bin/python3", "-c", OFFLOADS_OFF, dev], 10);
    assert.equal(r.code, 0, `turning offloads off: ${r.stderr}`);
  }
}

interface UpProcess {
  /** Resolves with the ready line. */
  readonly ready: Promise<string>;
  /** SIGTERM, then the exit code and the output. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** `cli.ts up ARGS` inside `netns`, as a child process. */
function spawnUp(netns: string, args: readonly string[]): UpProcess {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", netns, Deno.execPath(), "run", "-A", CLI, "up", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  let resolveReady!: (line: string) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<string>((res, rej) => [resolveReady, rejectReady] = [res, rej]);
  const outDone = (async () => {
    for await (const chunk of child.stdout) {
      stdout += decoder.decode(chunk);
      const line = stdout.split("\n").find((l) => l.startsWith("ready "));
      if (line !== undefined) resolveReady(line);
    }
    rejectReady(new Error(`up exited before ready: ${stderr}`));
  })();
  const errDone = (async () => {
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk);
  })();
  const timer = setTimeout(() => rejectReady(new Error(`up not ready in 20 s: ${stderr}`)), 20000);
  ready.finally(() => clearTimeout(timer)).catch(() => {});
  return {
    ready,
    async stop() {
      clearTimeout(timer);
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const status = await child.status;
      await Promise.all([outDone, errDone]);
      return { code: status.code, stdout, stderr };
    },
  };
}

Deno.test(gated(NEEDS, {
  name:
    "vxlan: Linux's vx0 pings and curls the virtual host across the overlay; tshark decodes both layers",
  async fn() {
    await withNetns((a) =>
      withNetns(async (b) => {
        await underlay(a, b);
        await ip(
          [
            "link",
            "add",
            "vx0",
            "type",
            "vxlan",
            "id",
            "42",
            "dstport",
            "4789",
            "remote",
            UNDER_B,
            "local",
            UNDER_A,
            "dev",
            "va",
          ],
          { netns: a },
        );
        await ip(["link", "set", "vx0", "addrgenmode", "none"], { netns: a });
        await ip(["addr", "add", "10.0.0.1/24", "dev", "vx0"], { netns: a });
        await ip(["link", "set", "vx0", "up"], { netns: a });
        const mtu = (await ip(["-o", "link", "show", "vx0"], { netns: a })).match(/mtu (\d+)/)![1];
        assert.equal(mtu, "1450"); // Linux takes the same 50 bytes
        const pcap = await Deno.makeTempFile({ prefix: `${a}-`, suffix: ".pcap" });
        const dump = await startTcpdump(a, "va", pcap);
        const up = spawnUp(b, [
          "--driver",
          "vxlan",
          "--vni",
          "42",
          "--local",
          UNDER_B,
          "--remote",
          UNDER_A,
          "--address",
          "10.0.0.2/24",
          "--peer-address",
          "10.0.0.1/24",
          "--mac",
          MAC,
          "--serve",
          "http",
        ]);
        let result: { code: number; stdout: string; stderr: string } | undefined;
        try {
          assert.equal(await up.ready, "ready vxlan42 10.0.0.2/24");
          const ping = await netnsExec(
            a,
            ["ping", "-c", "10", "-i", "0.05", "-W", "5", "-w", "5", "10.0.0.2"],
            10,
          );
          assert.deepEqual(pingUnanswered(ping.stdout, 10), [], ping.stdout);
          const page = await netnsExec(
            a,
            ["curl", "-sS", "--max-time", "5", "http://10.0.0.2/"],
            10,
          );
          assert.equal(page.code, 0, page.stderr);
          assert.match(page.stdout, /<h1>deno-netstack<\/h1>/);
          const neigh = await netnsExec(a, ["ip", "neigh", "show", "10.0.0.2", "dev", "vx0"], 5);
          assert.match(neigh.stdout, new RegExp(`lladdr ${MAC}`));
        } finally {
          result = await up.stop();
          await dump.stop();
        }
        try {
          assert.equal(result.code, 143, result.stderr);
          assert.doesNotMatch(result.stderr, /warning/, "the stack pinged Linux at start");
          await assertTsharkClean(pcap);
          // Outer UDP to 4789 with VNI 42 around inner ICMP and HTTP, both ways.
          const rows = (await runTshark(pcap, [
            "-Y",
            "vxlan",
            "-T",
            "fields",
            "-E",
            "separator=,",
            "-E",
            "occurrence=a",
            "-e",
            "udp.dstport",
            "-e",
            "udp.srcport",
            "-e",
            "vxlan.vni",
            "-e",
            "ip.src",
            "-e",
            "_ws.col.Protocol",
          ])).trim().split("\n");
          assert.ok(rows.length >= 20, rows.join("\n"));
          for (const row of rows) {
            const [dport, sport, vni] = row.split(",");
            assert.equal(dport, "4789", row);
            assert.equal(vni, "42", row);
            assert.ok(Number(sport) >= 1024, row);
          }
          const fromStack = rows.filter((r) => r.includes(`${UNDER_B},10.0.0.2`));
          assert.ok(fromStack.some((r) => r.endsWith("ICMP")), rows.join("\n"));
          assert.ok(fromStack.some((r) => r.endsWith("HTTP")), rows.join("\n"));
          for (const r of fromStack) {
            const sport = Number(r.split(",")[1]);
            assert.ok(sport >= 49152 && sport <= 65535, `source port ${sport} outside 49152-65535`);
          }
        } finally {
          await Deno.remove(pcap);
        }
      })
    );
  },
}));

Deno.test(gated(NEEDS, {
  name: "vxlan: two cli.ts up --driver vxlan processes in two namespaces ping each other",
  async fn() {
    await withNetns((a) =>
      withNetns(async (b) => {
        await underlay(a, b);
        const first = spawnUp(a, [
          "--driver",
          "vxlan",
          "--vni",
          "7",
          "--local",
          UNDER_A,
          "--remote",
          UNDER_B,
          "--address",
          "10.7.0.1/24",
        ]);
        let second: UpProcess | undefined;
        try {
          await first.ready;
          second = spawnUp(b, [
            "--driver",
            "vxlan",
            "--vni",
            "7",
            "--local",
            UNDER_B,
            "--remote",
            UNDER_A,
            "--address",
            "10.7.0.2/24",
            "--peer-address",
            "10.7.0.1/24",
          ]);
          await second.ready;
        } finally {
          const r2: { code: number; stdout: string; stderr: string } | undefined =
            second === undefined ? undefined : await second.stop();
          const r1 = await first.stop();
          assert.equal(r1.code, 143, r1.stderr);
          assert.equal(r2?.code, 143, r2?.stderr);
          // up pings its peer before "ready" and warns when it gets no answer.
          assert.doesNotMatch(r2!.stderr, /warning/);
          assert.match(r2!.stdout, /rx\.echo_replies\s+1/);
          assert.match(r1.stdout, /tx\.echo_replies\s+1/);
        }
      })
    );
  },
}));

Deno.test(gated(NEEDS, {
  name: "vxlan: a VXLAN-bridged switch joins in-memory networks in two processes into one LAN",
  async fn() {
    await withNetns((a) =>
      withNetns(async (b) => {
        await underlay(a, b);
        const self = new URL(import.meta.url).pathname;
        const run = (ns: string, args: string[]) =>
          new Deno.Command("ip", {
            args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", self, ...args],
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
          }).spawn();
        // Process 1: two virtual hosts, 10.8.0.1 and 10.8.0.3, on a switch bridged to VXLAN.
        const first = run(a, [UNDER_A, UNDER_B, "10.8.0.1/24,10.8.0.3/24"]);
        const reader = first.stdout.getReader();
        let text = "";
        while (!text.includes("ready")) {
          const chunk = await reader.read();
          if (chunk.done) break;
          text += new TextDecoder().decode(chunk.value);
        }
        // Process 2: one virtual host that pings both across the bridge, then exits.
        const second = await run(b, [UNDER_B, UNDER_A, "10.8.0.2/24", "10.8.0.1,10.8.0.3"])
          .output();
        first.kill("SIGTERM");
        reader.releaseLock();
        const firstOut = await first.output();
        const out2 = new TextDecoder().decode(second.stdout);
        const err2 = new TextDecoder().decode(second.stderr);
        assert.equal(second.code, 0, err2);
        assert.match(out2, /^pinged 10\.8\.0\.1 5\/5$/m, out2 + err2);
        assert.match(out2, /^pinged 10\.8\.0\.3 5\/5$/m, out2 + err2);
        assert.equal(firstOut.code, 0, new TextDecoder().decode(firstOut.stderr));
        assert.match(text, /^ready$/m);
      })
    );
  },
}));

function say(line: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

/**
 * One side of the bridge test: `LOCAL REMOTE CIDR[,CIDR…] [PING,…]`. Each
 * CIDR is a stack on a virtual switch whose last port is bridged to a VXLAN
 * device (VNI 9) from LOCAL to REMOTE. With PING targets, pings each 5 times
 * from the first stack, prints `pinged ADDR N/5` and exits; else runs until
 * SIGTERM.
 */
async function bridgeChild(args: string[]): Promise<void> {
  const [local, remote, cidrs, targets] = args;
  const clock = new SystemClock();
  const net = new VirtualNetwork({ seed: 1, start: clock.now() });
  const sw = net.switch();
  const vx = await openVxlan({ vni: 9, local: local!, remotes: [remote!] });
  const bridge = bridgeToDevice(net, sw.port({ mtu: vx.mtu }), vx);
  const stacks = cidrs!.split(",").map((cidr, i) => {
    const stack = net.addNode(createStack({ clock: net.clock, seed: 10 + i }));
    // A MAC from the address: each network's MAC counter starts at the same
    // value in every process, and the bridged LAN needs them unique.
    const last = Number(cidr.split("/")[0]!.split(".")[3]);
    const mac = new Uint8Array([0x02, 0, 0x5e, 0x08, 0, last]);
    stack.addInterface({ driver: sw.port({ mtu: vx.mtu, mac }), addresses: [cidr] });
    return stack;
  });
  const runner = new RealTimeRunner(realTimeNetwork(net, clock), { clock });
  vx.onBatch = runner.kick;
  runner.start();
  say("ready");
  if (targets !== undefined) {
    for (const target of targets.split(",")) {
      let ok = 0;
      for (let i = 0; i < 5; i++) {
        const reply = stacks[0]!.ping(target, { timeout: 2000 });
        runner.kick();
        try {
          await reply;
          ok++;
        } catch { /* counted as lost */ }
      }
      say(`pinged ${target} ${ok}/5`);
    }
  } else {
    await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
  }
  runner.stop();
  for (const s of stacks) s.close();
  bridge.close();
  await vx.closed;
  Deno.exit(0);
}

if (import.meta.main) await bridgeChild(Deno.args);
