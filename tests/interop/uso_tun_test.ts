/**
 * UDP segmentation offload on send against Linux: a socket with
 * `segmentSize` sends over a TUN device; with USO negotiated the stack
 * writes one super-datagram per send (virtio-net `GSO_UDP_L4`) and Linux
 * cuts it, with `offload: false` the stack cuts it itself. Either way a
 * Python receiver on a kernel socket gets each datagram with its bytes
 * (lengths and sha256 compared), over IPv4 and IPv6. Each test runs in a
 * namespace of its own (Linux 10.0.0.1 / fd00::1, the stack 10.0.0.2 /
 * fd00::2); the stack's own capture (a tap, which records a super-datagram
 * as the datagrams it stands for) must be tshark-clean with good checksums.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { conntrackPlugin, createStack, natPlugin, type Stack } from "../../mod.ts";
import { pluginsWith } from "../_test_plugins.ts";
import { openTun, RealTimeRunner, TunDevice } from "../../drivers/tun/mod.ts";
import { CaptureTap, PcapWriter } from "../../drivers/pcapfile/mod.ts";
import { LINKTYPE_RAW } from "../../stack/driver.ts";
import { SystemClock } from "../../stack/clock.ts";
import { addNetns, deleteNetns, ip } from "../../cli/_netns.ts";
import {
  configurePeer,
  INTEROP_NEEDS,
  LINUX_ADDRESS,
  STACK_ADDRESS,
  uniqueNetnsName,
} from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { tsharkUdpChecksums } from "../udp/_uso.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3", "tshark"];
const LINUX6 = "fd00::1";
const STACK6 = "fd00::2";

/** Binds, says "ready", receives `n` datagrams (10 s each at most), prints [length, sha256, source] of each. */
const RECEIVER = `
import hashlib, json, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((host, port))
s.settimeout(10)
print("ready", flush=True)
got = []
try:
    for _ in range(n):
        d, src = s.recvfrom(70000)
        got.append([len(d), hashlib.sha256(d).hexdigest(), src[0]])
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
`;

interface Host {
  readonly netns: string;
  readonly dev: TunDevice;
  readonly stack: Stack;
  readonly runner: RealTimeRunner;
}

/** A stack on a TUN device (`offload`) in a fresh namespace, its frames recorded in `capture`. */
async function withHost(
  offload: boolean,
  capture: PcapWriter,
  fn: (h: Host) => Promise<void>,
  natRules?: string,
): Promise<void> {
  const netns = uniqueNetnsName("uso");
  await addNetns(netns);
  let dev: TunDevice | null = null;
  let stack: Stack | null = null;
  let runner: RealTimeRunner | null = null;
  try {
    const clock = new SystemClock();
    stack = createStack({
      clock,
      seed: 17,
      ...(natRules === undefined ? {} : {
        plugins: pluginsWith({ conntrack: {}, nat: { rules: natRules } }, [
          conntrackPlugin,
          natPlugin,
        ]),
      }),
    });
    dev = openTun({ mode: "tun", name: "tun0", netns, offload });
    const driver = new CaptureTap(dev, { writer: capture, epochOffset: 1_700_000_000_000_000 });
    const iface = stack.addInterface({ driver, addresses: [`${STACK_ADDRESS}/24`] });
    runner = new RealTimeRunner(stack, { clock });
    dev.onBatch = runner.kick;
    runner.start();
    await configurePeer(dev.name, { addresses: [`${LINUX_ADDRESS}/24`], netns });
    // TUN is point-to-point and NOARP: no DAD on either side.
    await ip(["-6", "addr", "add", `${LINUX6}/64`, "dev", dev.name, "nodad"], { netns });
    stack.addAddress(iface.index, `${STACK6}/64`);
    runner.kick();
    await fn({ netns, dev, stack, runner });
  } finally {
    runner?.stop();
    stack?.close();
    dev?.close();
    await dev?.closed;
    await deleteNetns(netns);
  }
}

/** `n` bytes of a pattern that differs per datagram. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >>> 7) + seed) & 0xff;
  return b;
}

/** [length, sha256] of each datagram a send of `data` in segments of `size` makes. */
function expected(data: Uint8Array, size: number): [number, string][] {
  const out: [number, string][] = [];
  for (let at = 0; at < data.length; at += size) {
    const d = data.subarray(at, at + size);
    out.push([d.length, createHash("sha256").update(d).digest("hex")]);
  }
  return out;
}

/**
 * Sends each of `sends` (payload lengths) with `segmentSize` from the stack
 * to a Linux receiver at `to` (`sendTo`: the address the stack sends to,
 * when NAT maps it there), and checks Linux got every datagram intact;
 * returns the sources Linux saw.
 */
async function sendToLinux(
  h: Host,
  to: string,
  segmentSize: number,
  sends: readonly number[],
  sendTo: { hostname: string; port: number } = { hostname: to, port: 5004 },
): Promise<Set<string>> {
  const want: [number, string][] = [];
  const payloads = sends.map((n, i) => pattern(n, i));
  for (const p of payloads) want.push(...expected(p, segmentSize));
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      h.netns,
      "timeout",
      "60",
      "python3",
      "-c",
      RECEIVER,
      to,
      "5004",
      String(want.length),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const r = await lines.read();
    if (r.done) break;
    out += r.value;
  }
  const conn = h.stack.listenDatagram({
    transport: "udp",
    hostname: to.includes(":") ? "::" : "0.0.0.0",
    segmentSize,
  });
  try {
    for (const p of payloads) {
      assert.equal(await conn.send(p, sendTo), p.length);
    }
  } finally {
    conn.close();
  }
  for (;;) {
    const r = await lines.read();
    if (r.done) break;
    out += r.value;
  }
  const status = await child.status;
  const err = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.ok(status.success, `receiver: ${err}`);
  const got = JSON.parse(out.slice(out.indexOf("ready\n") + 6)) as [number, string, string][];
  assert.deepEqual(got.map(([n, hash]) => [n, hash]), want);
  return new Set(got.map((g) => g[2]));
}

// Full-sized datagrams (1472 over IPv4), a short last one, a single datagram, one byte.
const SENDS_V4 = [1472 * 40, 1472 * 3 + 5, 1472, 1] as const;

for (const offload of [true, false]) {
  Deno.test(gated(NEEDS, {
    name: `tun ${
      offload ? "with USO" : "offload: false"
    }: Linux receives every datagram of segmentSize sends intact (IPv4, IPv6), capture tshark-clean`,
    async fn() {
      const capture = new PcapWriter({ linkType: LINKTYPE_RAW });
      await withHost(offload, capture, async (h) => {
        assert.equal(h.dev.usoMaxSize, offload ? 65535 : 0);
        const gso0 = h.dev.stats.txGso;
        await sendToLinux(h, LINUX_ADDRESS, 1472, SENDS_V4);
        // Exactly 128 datagrams (Linux's UDP_MAX_SEGMENTS), then a short send.
        await sendToLinux(h, LINUX_ADDRESS, 100, [100 * 128, 250]);
        await sendToLinux(h, LINUX6, 1452, [1452 * 20 + 3, 700]);
        // With USO every send of more than one datagram was one write.
        assert.equal(h.dev.stats.txGso - gso0, offload ? 5 : 0);
        const cut = h.stack.counters.get("dispatcher.tx.udp_segmented").value;
        assert.equal(cut, offload ? 0 : 40 + 4 + 128 + 3 + 21);
      });
      const lines = await cleanUdpChecksums(capture.bytes());
      assert.equal(lines.length, 40 + 4 + 1 + 1 + 128 + 3 + 21 + 1, "datagrams in the capture");
      assert.ok(lines.every((l) => l.endsWith("\t1")), "every UDP checksum good");
    },
  }));
}

Deno.test(gated(NEEDS, {
  name:
    "tun with USO through SNAT and DNAT: Linux receives every datagram intact from the translated source",
  async fn() {
    const capture = new PcapWriter({ linkType: LINKTYPE_RAW });
    const rules = "snat -o tun0 -p udp --to 10.0.0.3;dnat -p udp --dport 6000 --to 10.0.0.1:5004";
    await withHost(true, capture, async (h) => {
      const gso0 = h.dev.stats.txGso;
      const sources = await sendToLinux(h, LINUX_ADDRESS, 1472, [1472 * 30 + 9, 1472 * 2], {
        hostname: "10.0.0.9",
        port: 6000,
      });
      assert.deepEqual([...sources], ["10.0.0.3"]);
      assert.equal(h.dev.stats.txGso - gso0, 2, "each send one super-datagram");
    }, rules);
    const lines = await cleanUdpChecksums(capture.bytes());
    assert.equal(lines.length, 31 + 2);
    assert.ok(lines.every((l) => l.endsWith("\t1")), "every UDP checksum good");
  },
}));

/** The capture is tshark-clean; then its datagrams' lengths and checksum statuses. */
async function cleanUdpChecksums(pcap: Uint8Array): Promise<string[]> {
  await assertTsharkClean(pcap);
  return await tsharkUdpChecksums(pcap);
}
