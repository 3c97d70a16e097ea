/**
 * The AF_PACKET driver against Linux: inside a namespace the test creates, a
 * veth pair, Linux at 10.0.0.1/24 on one end and the stack (through
 * `cli.ts up --driver packet`) on the other end, which has no Linux address.
 * Ping, ARP both ways, curl to the http service, 100 MB into discard; the
 * capture of the Linux end must be tshark-clean.
 *
 * A veth hands the peer's frames over with the TCP/UDP checksum left to
 * "hardware" and TSO super-frames; the test turns those offloads off on the
 * Linux end through `SIOCETHTOOL` (python3; ethtool is not installed here),
 * as the driver's documentation asks.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  createStack,
  DEFAULT_PLUGINS,
  PacketPool,
  parseMac,
  type Stack,
  SystemClock,
} from "../../mod.ts";
import { discardPlugin, SERVICES } from "../../plugins/services/mod.ts";
import { RealTimeRunner } from "../../drivers/tun/mod.ts";
import { runUp } from "../../cli/up.ts";
import { openPacket } from "../../drivers/packet/mod.ts";
import {
  INTEROP_NEEDS,
  ip,
  netnsExec,
  pingUnanswered,
  startTcpdump,
  type Tcpdump,
  withNetns,
} from "./_netns.ts";
import { FLOW_CONTROL_WARNINGS } from "../services/_services.ts";
import { gated } from "../_require.ts";
import { assertTsharkClean } from "../_tshark.ts";

const LINUX = "10.0.0.1";
/** Wireshark's warnings about segments missing from the file (tcpdump's drops). */
const CAPTURE_LOSS_WARNINGS: readonly RegExp[] = [
  /^Previous segment\(s\) not captured/,
  /^ACKed segment that wasn't captured/,
  /^This frame is a \(suspected\) out-of-order segment/,
];
const FAST_RETRANSMISSION = /^This frame is a \(suspected\) out-of-order segment/;
const HOST = "10.0.0.2";
const MAC = "02:00:5e:00:00:17";
const NEEDS = [...INTEROP_NEEDS, "ping", "arping", "curl", "nc", "tshark", "scapy"] as const;

/** ETHTOOL_STXCSUM, ETHTOOL_STSO, ETHTOOL_SGSO to 0 on `dev` (what `ethtool -K dev tx off tso off gso off` does). */
const OFFLOADS_OFF = `
import array, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cmd in (0x17, 0x1f, 0x24):
    buf = array.array("B", struct.pack("II", cmd, 0))
    ifr = struct.pack("16sQ", sys.argv[1].encode(), buf.buffer_info()[0]) + bytes(16)
    fcntl.ioctl(s.fileno(), 0x8946, ifr)
`;

/** veth `vl` (Linux, 10.0.0.1/24) ↔ `vs` (the stack's, no address, no IPv6) in `netns`. */
async function veth(netns: string): Promise<void> {
  await ip(["link", "add", "vl", "type", "veth", "peer", "name", "vs"], { netns });
  await ip(["link", "set", "vs", "addrgenmode", "none"], { netns });
  await ip(["link", "set", "vl", "addrgenmode", "none"], { netns });
  await ip(["addr", "add", `${LINUX}/24`, "dev", "vl"], { netns });
  await ip(["link", "set", "vl", "up"], { netns });
  const r = await netnsExec(netns, ["/usr/bin/python3", "-c", OFFLOADS_OFF, "vl"], 10);
  assert.equal(r.code, 0, `turning offloads off: ${r.stderr}`);
}

interface Harness {
  readonly netns: string;
  readonly stack: Stack;
  sh(line: string, seconds: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** `cli.ts up --driver packet --ifname vs` with `serve`, `body` once ready, capture checked. */
async function withPacketUp(serve: string, body: (h: Harness) => Promise<void>): Promise<string[]> {
  const out: string[] = [];
  await withNetns(async (netns) => {
    await veth(netns);
    const pcap = await Deno.makeTempFile({ prefix: `${netns}-`, suffix: ".pcap" });
    const err: string[] = [];
    const stop = new AbortController();
    let failure: unknown = undefined;
    let dump: Tcpdump | null = null;
    let dropped = 0;
    try {
      const code = await runUp(
        [
          "--driver",
          "packet",
          "--ifname",
          "vs",
          "--netns",
          netns,
          "--mac",
          MAC,
          "--address",
          `${HOST}/24`,
          "--peer-address",
          `${LINUX}/24`,
          "--serve",
          serve,
        ],
        {
          services: SERVICES,
          handleSignals: false,
          signal: stop.signal,
          print: (l) => out.push(l),
          printError: (l) => err.push(l),
          onReady: async (stack) => {
            dump = await startTcpdump(netns, "vl", pcap, { bufferKib: 65536, snaplen: 128 });
            try {
              await body({
                netns,
                stack,
                sh: (line, s) => netnsExec(netns, ["sh", "-c", line], s),
              });
            } catch (e) {
              failure = e;
            } finally {
              dropped = await dump.stop();
              stop.abort();
            }
          },
        },
      );
      if (failure !== undefined) throw failure;
      assert.equal(code, 0, `up failed:\n${err.join("\n")}`);
      // Holes tcpdump itself made (it says how many) are not the stack's. A
      // frame the stack's ring lost on a busy machine is retransmitted by
      // Linux within tshark's 3 ms, which it labels out-of-order.
      await assertTsharkClean(pcap, {
        allowWarnings: [
          ...FLOW_CONTROL_WARNINGS,
          FAST_RETRANSMISSION,
          ...(dropped > 0 ? CAPTURE_LOSS_WARNINGS : []),
        ],
      });
    } finally {
      await Deno.remove(pcap);
    }
  });
  return out;
}

Deno.test(gated(NEEDS, {
  name: "packet: Linux pings the stack on a veth end with no Linux address; ARP both ways",
  async fn() {
    const out = await withPacketUp("http", async (h) => {
      // The stack asked for Linux's MAC (up pings its peer before "ready").
      assert.ok(h.stack.counters.value("arp.tx.requests") >= 1);
      assert.ok(h.stack.counters.value("arp.rx.replies") >= 1);
      const linuxMac = (await h.sh("cat /sys/class/net/vl/address", 5)).stdout.trim();
      const entry = h.stack.neighbors().find((n) => n.address === LINUX);
      assert.equal(entry?.mac, linuxMac, JSON.stringify(h.stack.neighbors()));
      const ping = await h.sh(`ping -c 20 -i 0.05 -W 1 -w 5 ${HOST}`, 10);
      assert.deepEqual(pingUnanswered(ping.stdout, 20), [], ping.stdout);
      // Linux asked for the stack's MAC too.
      const arping = await h.sh(`arping -c 3 -w 4 -I vl ${HOST}`, 10);
      assert.equal(arping.code, 0, arping.stdout + arping.stderr);
      assert.match(arping.stdout.toLowerCase(), new RegExp(`\\[${MAC}\\]`));
      assert.ok(h.stack.counters.value("arp.tx.replies") >= 3);
      const neigh = await h.sh(`ip neigh show ${HOST} dev vl`, 5);
      assert.match(neigh.stdout, new RegExp(`lladdr ${MAC}`));
    });
    assert.match(out[0]!, /^ready vs 10\.0\.0\.2\/24$/);
  },
}));

Deno.test(gated(NEEDS, {
  name: "packet: curl gets the http status page; 100,000,000 bytes into discard are all counted",
  async fn() {
    let elapsed = 0;
    await withPacketUp("http,discard", async (h) => {
      const page = await h.sh(`curl -sS --max-time 5 http://${HOST}/`, 10);
      assert.equal(page.code, 0, page.stderr);
      assert.match(page.stdout, /<h1>deno-netstack<\/h1>/);
      const t0 = performance.now();
      const r = await h.sh(`head -c 100000000 /dev/zero | nc -N -w 3 ${HOST} 9`, 90);
      elapsed = (performance.now() - t0) / 1000;
      assert.equal(r.code, 0, `nc: ${r.code} ${r.stderr}`);
      const counted = () => h.stack.counters.value("discard.bytes");
      const end = Date.now() + 5000;
      while (counted() !== 100_000_000 && Date.now() < end) {
        await new Promise((res) => setTimeout(res, 20));
      }
      assert.equal(counted(), 100_000_000);
    });
    // deno-lint-ignore no-console
    console.log(
      `  100 MB nc → discard over AF_PACKET: ${elapsed.toFixed(2)} s, ` +
        `${(0.8 / elapsed).toFixed(2)} Gbit/s`,
    );
  },
}));

Deno.test(gated(NEEDS, {
  name: "packet: the BPF filter keeps frames for other MACs out; the kernel drops none",
  async fn() {
    await withNetns(async (netns) => {
      await veth(netns);
      const dev = openPacket({
        ifname: "vs",
        netns,
        up: true,
        mac: new Uint8Array([2, 0, 0, 0, 0, 0x17]),
      });
      try {
        const frames: number[] = [];
        dev.attach({
          pool: new PacketPool(),
          ifindex: 1,
          now: () => 0,
          receive(pkt) {
            frames.push(pkt.data[5]!);
            pkt.release();
          },
        });
        // Linux sends to the stack's MAC, to another MAC, and broadcast (scapy on vl).
        const py = "from scapy.all import *\n" +
          "for d in ['02:00:00:00:00:17','02:00:00:00:00:99','ff:ff:ff:ff:ff:ff']:\n" +
          "    sendp(Ether(dst=d,type=0x88b5)/Raw(b'x'*50), iface='vl', verbose=0)\n";
        const r = await netnsExec(netns, ["/usr/bin/python3", "-c", py], 20);
        assert.equal(r.code, 0, r.stderr);
        const end = Date.now() + 2000;
        while (frames.length < 2 && Date.now() < end) {
          await new Promise((res) => setTimeout(res, 10));
        }
        await new Promise((res) => setTimeout(res, 100));
        assert.deepEqual(frames, [0x17, 0xff]);
        assert.equal(dev.ignoresOutgoing, true);
        assert.equal(dev.stats.rxKernelDrops, 0);
        assert.equal(dev.stats.rxPackets, 2);
      } finally {
        dev.close();
        await dev.closed;
      }
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "packet: up names a missing interface (exit 1), and a missing --ifname is usage (exit 2)",
  async fn() {
    await withNetns(async (netns) => {
      const err: string[] = [];
      const code = await runUp(
        ["--driver", "packet", "--ifname", "nosuch0", "--netns", netns, "--address", `${HOST}/24`],
        { handleSignals: false, print: () => {}, printError: (l) => err.push(l) },
      );
      assert.equal(code, 1);
      assert.equal(err.length, 1, err.join("\n"));
      assert.match(err[0]!, /^cli\.ts up: .*"nosuch0".*no such interface/);
    });
    const err: string[] = [];
    const code = await runUp(["--driver", "packet", "--address", `${HOST}/24`], {
      handleSignals: false,
      print: () => {},
      printError: (l) => err.push(l),
    });
    assert.equal(code, 2);
    assert.match(err[0]!, /^cli\.ts up: --driver packet needs --ifname/);
  },
}));

Deno.test(gated([...NEEDS, "setpriv"], {
  name: "packet: up without CAP_NET_RAW fails with one line and exit 1",
  async fn() {
    await withNetns(async (netns) => {
      await veth(netns);
      const cli = new URL("../../cli.ts", import.meta.url).pathname;
      const out = await new Deno.Command("setpriv", {
        args: [
          "--inh-caps=-all",
          "--bounding-set=-net_raw,-net_admin",
          "--",
          Deno.execPath(),
          "run",
          "-A",
          cli,
          "up",
          "--driver",
          "packet",
          "--ifname",
          "vs",
          "--address",
          `${HOST}/24`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
      assert.equal(out.code, 1, stderr.join("\n"));
      assert.equal(stderr.length, 1, stderr.join("\n"));
      assert.match(stderr[0]!, /^cli\.ts up: .*CAP_NET_RAW/);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "packet ring: through the TPACKET_V3 ring the filter holds, Linux pings and sends 20 MB to discard",
  async fn() {
    await withNetns(async (netns) => {
      await veth(netns);
      const clock = new SystemClock();
      const stack = createStack({ clock, seed: 3, plugins: [...DEFAULT_PLUGINS, discardPlugin] });
      const dev = openPacket({ ifname: "vs", netns, up: true, ring: true, mac: parseMac(MAC)! });
      assert.equal(dev.ring, true);
      stack.addInterface({ driver: dev, addresses: [`${HOST}/24`] });
      const runner = new RealTimeRunner(stack, { clock });
      dev.onBatch = runner.kick;
      runner.start();
      try {
        const ping = await netnsExec(
          netns,
          ["ping", "-c", "10", "-i", "0.05", "-W", "5", "-w", "5", HOST],
          10,
        );
        assert.deepEqual(pingUnanswered(ping.stdout, 10), [], ping.stdout);
        // A frame for another MAC stays out of the ring too.
        const py = "from scapy.all import *\n" +
          "sendp(Ether(dst='02:00:00:00:00:99',type=0x88b5)/Raw(b'x'*50), iface='vl', verbose=0)\n";
        // Counted by what the frame would become past the ring (Ethernet drops
        // unicast to another MAC), not by all frames: Linux may send its own
        // (multicast, ARP) at any moment, and those the filter lets in.
        const notForUs = () => stack.counters.value("ethernet.rx.not_for_us");
        const before = notForUs();
        assert.equal((await netnsExec(netns, ["/usr/bin/python3", "-c", py], 20)).code, 0);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(notForUs(), before);
        const nc = await netnsExec(
          netns,
          ["sh", "-c", `head -c 20000000 /dev/zero | nc -N -w 3 ${HOST} 9`],
          60,
        );
        assert.equal(nc.code, 0, nc.stderr);
        const end = Date.now() + 5000;
        while (stack.counters.value("discard.bytes") < 20_000_000 && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(stack.counters.value("discard.bytes"), 20_000_000);
        assert.equal(dev.stats.rxTruncated, 0);
      } finally {
        runner.stop();
        stack.close();
        await dev.closed;
      }
    });
  },
}));
