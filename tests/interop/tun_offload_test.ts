/**
 * TUN offloads against Linux (drivers/tun/vnet.ts): with `IFF_VNET_HDR`,
 * checksum offload and TSO, Linux hands the stack 64 KiB TCP super-segments
 * at MTU 1500 and segments the stack's own. Each test runs in a namespace of
 * its own with Linux at 10.0.0.1 and the stack at 10.0.0.2; the Linux peer
 * is a Python program on a kernel socket (256 KiB writes and reads), and
 * both ends hash what they sent and got.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  DEFAULT_OFFLOAD,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TUN_F_TSO6,
  TUN_F_TSO_ECN,
  TUN_F_USO4,
  TunDevice,
} from "../../drivers/tun/mod.ts";
import { runUp } from "../../cli/up.ts";
import { parseCapture } from "../../drivers/pcapfile/mod.ts";
import { addNetns, deleteNetns } from "../../cli/_netns.ts";
import {
  type DeviceHarness,
  INTEROP_NEEDS,
  LINUX_ADDRESS,
  STACK_ADDRESS,
  tcpChecksumErrors,
  uniqueNetnsName,
  withDevice,
  withNetnsBehind,
} from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { randomChunks } from "../services/_services.ts";
import { kernelPeerListening, kernelPeerReport, startKernelPeer } from "./_kernel_peer.ts";
import { addIpv6Pair, LINUX6, STACK6 } from "./_ipv6.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3"];
const MIB = 1 << 20;

/** The namespace Linux's end runs in and the stack. */
type Host = Pick<DeviceHarness, "netns" | "stack">;

/**
 * A stack on a TUN device (TAP with `mode`) opened with `offload`, in a
 * fresh namespace, no capture (64 MiB transfers).
 */
function withHost(
  offload: boolean | number,
  fn: (h: DeviceHarness) => Promise<void>,
  mode: "tun" | "tap" = "tun",
): Promise<void> {
  return withDevice({ mode, offload, capture: false }, fn);
}

/** Linux sends `bytes` to the stack's port 5002 (at `to`); returns what each end hashed. */
async function linuxToStack(h: Host, bytes: number, to = STACK_ADDRESS): Promise<void> {
  const listener = h.stack.listen({ hostname: to, port: 5002 });
  try {
    const client = startKernelPeer(
      h.netns,
      ["send", to, "5002", String(bytes), "7", "--sha256"],
      120,
    );
    const conn = await listener.accept();
    const got = createHash("sha256");
    let received = 0;
    const buf = new Uint8Array(256 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      got.update(buf.subarray(0, n));
      received += n;
    }
    conn.close();
    const sent = await kernelPeerReport(client);
    assert.equal(received, bytes);
    assert.equal(sent.bytes, bytes);
    assert.equal(got.digest("hex"), sent.sha256);
  } finally {
    listener.close();
  }
}

/** The stack sends `bytes` to Linux's port 5003. */
async function stackToLinux(h: Host, bytes: number, to = LINUX_ADDRESS): Promise<void> {
  const server = startKernelPeer(h.netns, ["recv", to, "5003", "--sha256"], 120);
  await kernelPeerListening(server);
  const conn = await h.stack.connect({ hostname: to, port: 5003 });
  const sent = createHash("sha256");
  for (const chunk of randomChunks(21, bytes, 256 * 1024)) {
    sent.update(chunk);
    for (let off = 0; off < chunk.length;) off += await conn.write(chunk.subarray(off));
  }
  await conn.closeWrite();
  while ((await conn.read(new Uint8Array(64))) !== null) { /* Linux sends nothing */ }
  conn.close();
  const got = await kernelPeerReport(server);
  assert.equal(got.bytes, bytes);
  assert.equal(got.sha256, sent.digest("hex"));
}

Deno.test(gated(NEEDS, {
  name: "tun offload: 64 MiB each way at MTU 1500 in super-segments, sha256 equal at both ends",
  async fn() {
    await withHost(true, async (h) => {
      assert.equal(h.dev.mtu, 1500);
      assert.equal(h.dev.offload, DEFAULT_OFFLOAD);
      assert.equal(h.dev.tsoMaxSize, 65535);
      await linuxToStack(h, 64 * MIB);
      const rx = { ...h.dev.stats };
      // Linux handed over super-segments (far fewer frames than 1448-byte segments).
      assert.ok(rx.rxGso > 0, `no super-segment received: ${JSON.stringify(rx)}`);
      assert.ok(rx.rxPackets < (64 * MIB) / 1448 / 2, `${rx.rxPackets} frames for 64 MiB`);
      // Linux's partial TCP/IPv4 checksums go to TCP partial, never summed.
      assert.ok(rx.rxCsumPartial > 0);
      assert.equal(rx.rxBadVnet, 0);
      await stackToLinux(h, 64 * MIB);
      const tx = h.dev.stats;
      assert.ok(tx.txGso > 0, `no super-segment sent: ${JSON.stringify(tx)}`);
      assert.equal(tx.txNotSegmentable, 0);
      assert.equal(tx.txErrors, 0);
      assert.equal(h.stack.counters.value("tcp.rx.bad_checksum"), 0);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name:
    "tun offload: IPv6, 16 MiB each way at MTU 1500, Linux's partial TCP/IPv6 checksums reach TCP partial, sha256 equal",
  async fn() {
    await withHost(true, async (h) => {
      await addIpv6Pair(h);
      await linuxToStack(h, 16 * MIB, STACK6);
      const rx = { ...h.dev.stats };
      assert.ok(rx.rxGso > 0, `no super-segment received: ${JSON.stringify(rx)}`);
      // Every data segment Linux sent came partial (NEEDS_CSUM) and was left so:
      // at least one per super-segment, and none completed by the driver.
      assert.ok(rx.rxCsumPartial >= rx.rxGso, JSON.stringify(rx));
      assert.equal(rx.rxCsumCompleted, 0, JSON.stringify(rx));
      assert.equal(rx.rxBadVnet, 0);
      await stackToLinux(h, 16 * MIB, LINUX6);
      assert.ok(h.dev.stats.txGso > 0);
      assert.equal(h.dev.stats.txErrors, 0);
      assert.equal(h.stack.counters.value("tcp.rx.bad_checksum"), 0);
      // Linux found no bad checksum in what the stack sent (one TCP MIB for both families).
      assert.equal(await tcpChecksumErrors(h.netns), 0);
    });
  },
}));

Deno.test(gated([...NEEDS, "tshark"], {
  name: "tun offload: the stack's own capture of super-segments both ways opens cleanly in tshark",
  async fn() {
    await withDevice({
      mode: "tun",
      offload: true,
      capture: "stack",
      checkCapture: async (pcap) => {
        const bytes = await Deno.readFile(pcap);
        const frames = parseCapture(bytes).records;
        const big = frames.filter((f) => f.data.length > 1500);
        const bigIn = big.filter((f) => f.data[15] === 2); // destination 10.0.0.2
        assert.ok(bigIn.length > 0, "no super-segment from Linux in the capture");
        assert.ok(big.length > bigIn.length, "no super-segment from the stack in the capture");
        // Flow control shows as "window full" and zero windows (the reader is
        // slower than the writer): expected; malformed frames and bad checksums are not.
        await assertTsharkClean(bytes, {
          allowWarnings: [
            /window specified by the receiver is now completely full/,
            /^TCP Zero Window/,
          ],
        });
      },
    }, async (h) => {
      await linuxToStack(h, 2 * MIB);
      await stackToLinux(h, 2 * MIB);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun offload: a flag set the kernel refuses falls back to one it takes, and traffic flows",
  async fn() {
    // 0x8000 is no TUN_F_* bit: the kernel answers EINVAL, the driver steps down.
    await withHost(DEFAULT_OFFLOAD | 0x8000, async (h) => {
      // Step 2 of the ladder: unknown bits and USO dropped.
      assert.equal(h.dev.offload, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
      await linuxToStack(h, 4 * MIB);
      await stackToLinux(h, 4 * MIB);
      assert.ok(h.dev.stats.rxGso > 0 && h.dev.stats.txGso > 0);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun offload: checksum offload alone (no TSO) moves data with MTU-sized frames",
  async fn() {
    await withHost(TUN_F_CSUM, async (h) => {
      assert.equal(h.dev.offload, TUN_F_CSUM);
      assert.equal(h.dev.tsoMaxSize, 0);
      await linuxToStack(h, 4 * MIB);
      await stackToLinux(h, 4 * MIB);
      assert.equal(h.dev.stats.rxGso, 0);
      assert.equal(h.dev.stats.txGso, 0);
      assert.ok(h.dev.stats.rxCsumPartial > 0);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tun offload: off by default in openTun (no virtio-net header, no TSO)",
  async fn() {
    await withHost(false, async (h) => {
      assert.equal(h.dev.offload, -1);
      assert.equal(h.dev.tsoMaxSize, 0);
      await linuxToStack(h, 1 * MIB);
      assert.equal(h.dev.stats.rxGso, 0);
    });
  },
}));

/** The TUN device `up` opened with `extra` flags, as its interface's driver saw it. */
async function upDevice(extra: string[]): Promise<{ offload: number; tsoMaxSize: number }> {
  const netns = uniqueNetnsName("offup");
  await addNetns(netns);
  try {
    const stop = new AbortController();
    let seen: { offload: number; tsoMaxSize: number } | undefined;
    const err: string[] = [];
    const code = await runUp([
      "--driver",
      "tun",
      "--ifname",
      "tun0",
      "--netns",
      netns,
      "--address",
      `${STACK_ADDRESS}/24`,
      ...extra,
    ], {
      handleSignals: false,
      signal: stop.signal,
      print: () => {},
      printError: (l) => err.push(l),
      onReady: (stack) => {
        const driver = stack.interfaces.list().map((i) => i.driver).find((d) =>
          d instanceof TunDevice
        ) as TunDevice | undefined;
        if (driver !== undefined) {
          seen = { offload: driver.offload, tsoMaxSize: driver.tsoMaxSize };
        }
        stop.abort();
      },
    });
    assert.equal(code, 0, err.join("\n"));
    assert.ok(seen !== undefined, "no TUN device");
    return seen;
  } finally {
    await deleteNetns(netns);
  }
}

Deno.test(gated(INTEROP_NEEDS, {
  name: "up --driver tun: offloads on by default, --no-offload turns them off",
  async fn() {
    assert.deepEqual(await upDevice([]), { offload: DEFAULT_OFFLOAD, tsoMaxSize: 65535 });
    assert.deepEqual(await upDevice(["--no-offload"]), { offload: -1, tsoMaxSize: 0 });
  },
}));

/** Sends `count` datagrams of `size` bytes in one `sendmsg` with UDP_SEGMENT (Linux's GSO for UDP). */
const USO_PY = `
import socket, sys
host, port, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
UDP_SEGMENT = 103
s.setsockopt(socket.IPPROTO_UDP, UDP_SEGMENT, size)
data = b"".join(bytes([i]) * size for i in range(count))
s.sendto(data, (host, port))
print("sent", flush=True)
`;

Deno.test(gated(NEEDS, {
  name: "tun offload: a UDP_SEGMENT send arrives as one USO super-datagram, cut into 8 datagrams",
  async fn() {
    await withHost(true, async (h) => {
      assert.ok((h.dev.offload & TUN_F_USO4) !== 0, "this kernel refused USO");
      const conn = h.stack.listenDatagram({ transport: "udp", port: 5004 });
      try {
        const r = await h.exec(
          ["/usr/bin/python3", "-c", USO_PY, STACK_ADDRESS, "5004", "1000", "8"],
          10,
        );
        assert.equal(r.code, 0, r.stderr);
        const got: number[] = [];
        for (let i = 0; i < 8; i++) {
          const [data] = await conn.receive();
          assert.equal(data.length, 1000);
          assert.ok(data.every((b) => b === data[0]));
          got.push(data[0]!);
        }
        assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert.equal(h.dev.stats.rxUso, 1);
        assert.equal(h.stack.counters.value("udp.rx.bad_checksum"), 0);
      } finally {
        conn.close();
      }
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "tap offload: 16 MiB each way in super-segments behind an Ethernet header, sha256 equal",
  async fn() {
    await withHost(true, async (h) => {
      assert.equal(h.dev.tsoMaxSize, 65535);
      await linuxToStack(h, 16 * MIB);
      await stackToLinux(h, 16 * MIB);
      const s = h.dev.stats;
      assert.ok(s.rxGso > 0 && s.txGso > 0, JSON.stringify(s));
      // (txErrors may count EIO for frames sent before Linux set the link up.)
      assert.deepEqual([s.txNotSegmentable, s.rxBadVnet], [0, 0]);
    }, "tap");
  },
}));

Deno.test(gated([...NEEDS, "ethtool"], {
  name:
    "tun offload: Linux forwards the stack's super-segments onto a veth without offloads, where every checksum is checked",
  async fn() {
    await withHost(true, async (h) => {
      // Namespace B behind Linux: Linux segments and checksums the stack's
      // super-segments in software on the way, and B verifies every
      // checksum: a wrong partial-checksum seed would stall the transfer.
      await withNetnsBehind(h.netns, async (b) => {
        h.stack.addRoute("10.9.0.0/24", { gateway: LINUX_ADDRESS });
        await stackToLinux({ ...h, netns: b.netns }, 8 * MIB, b.address);
        await linuxToStack({ ...h, netns: b.netns }, 8 * MIB);
        assert.ok(h.dev.stats.txGso > 0, "no super-segment sent");
        assert.equal(await tcpChecksumErrors(b.netns), 0, "B counted no bad TCP checksum");
      });
    });
  },
}));
