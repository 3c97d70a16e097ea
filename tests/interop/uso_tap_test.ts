/**
 * UDP segmentation offload on send over a TAP device (Ethernet) against
 * Linux: a socket with `segmentSize` sends; with offloads (this kernel takes
 * USO on TAP as on TUN) each send is one Ethernet frame holding a
 * super-datagram (virtio-net `GSO_UDP_L4`) that Linux cuts, with `offload:
 * false` the stack cuts it itself. A Python receiver on a kernel socket gets
 * each datagram with its length and bytes (SHA-256 compared).
 *
 * Captures: the stack's own (a super-datagram recorded as its datagrams)
 * where Linux receives locally, since Linux's tcpdump on the TAP sees the
 * super-datagram with its partial checksum; Linux's own where it cuts them,
 * on a veth to a namespace behind it (no offloads there), and on the TAP
 * without offloads. Each must be tshark-clean with every UDP checksum good.
 *
 * The counters one super-datagram moves (the README's offload section
 * quotes them): `udp.tx.datagrams` counts each datagram, `ipv4.tx.packets`
 * and the driver's `txGso` the one packet, the interface's `txPackets`
 * what reaches the driver (one frame with USO, each datagram without), and
 * `dispatcher.tx.udp_segmented` the datagrams the stack cut in software.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_PLUGINS, slaacPlugin } from "../../mod.ts";
import {
  type DeviceHarness,
  INTEROP_NEEDS,
  LINUX_ADDRESS,
  startTcpdump,
  withDevice,
  withNetnsBehind,
} from "./_netns.ts";
import { sendToLinux } from "./_udp_receiver.ts";
import { gated, type Requirement } from "../_require.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { tsharkUdpChecksums } from "../udp/_uso.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3", "tshark"];

/** The counters one send touches. */
interface SendCounters {
  readonly udpDatagrams: number;
  readonly ipv4Packets: number;
  readonly segmentedBySoftware: number;
  readonly interfaceTx: number;
  readonly driverGso: number;
}

function counters(h: DeviceHarness): SendCounters {
  const value = (name: string) => h.stack.counters.value(name);
  return {
    udpDatagrams: value("udp.tx.datagrams"),
    ipv4Packets: value("ipv4.tx.packets"),
    segmentedBySoftware: value("dispatcher.tx.udp_segmented"),
    interfaceTx: h.stack.interfaces.list()[0]!.stats.txPackets,
    driverGso: h.dev.stats.txGso,
  };
}

function difference(after: SendCounters, before: SendCounters): SendCounters {
  return {
    udpDatagrams: after.udpDatagrams - before.udpDatagrams,
    ipv4Packets: after.ipv4Packets - before.ipv4Packets,
    segmentedBySoftware: after.segmentedBySoftware - before.segmentedBySoftware,
    interfaceTx: after.interfaceTx - before.interfaceTx,
    driverGso: after.driverGso - before.driverGso,
  };
}

/**
 * Without slaac the stack sends no IPv6 at all (no link-local address, so no
 * router solicitation, DAD or MLD report): the interface's frame count moves
 * only with the sends under test.
 */
const IPV4_QUIET = () => DEFAULT_PLUGINS.filter((p) => p !== slaacPlugin);

/** The capture at `pcap` is tshark-clean, and holds `n` UDP datagrams, every checksum good. */
async function assertCleanDatagrams(pcap: string, n: number): Promise<void> {
  const bytes = await Deno.readFile(pcap);
  await assertTsharkClean(bytes);
  const lines = await tsharkUdpChecksums(bytes);
  assert.equal(lines.length, n, `datagrams in the capture:\n${lines.join("\n")}`);
  assert.ok(lines.every((l) => l.endsWith("\t1")), `every UDP checksum good:\n${lines.join("\n")}`);
}

// 1472 bytes fill a 1500-byte MTU over IPv4; 11 datagrams, the last of 100 bytes.
const ONE_SEND = 1472 * 10 + 100;

for (const offload of [true, false]) {
  Deno.test(gated(NEEDS, {
    name: `tap ${
      offload ? "with USO" : "offload: false"
    }: one segmentSize send of 11 datagrams reaches a Linux socket intact; the counters it moves`,
    async fn() {
      await withDevice({
        mode: "tap",
        offload,
        // With USO, Linux's tcpdump on the TAP would see the super-datagram, partial checksum and all.
        capture: offload ? "stack" : "linux",
        plugins: IPV4_QUIET,
        // Warm-up (3 datagrams) and the send (11), as the wire carries them.
        checkCapture: (pcap) => assertCleanDatagrams(pcap, 3 + 11),
      }, async (h) => {
        assert.equal(h.dev.usoMaxSize, offload ? 65535 : 0, "this kernel refused USO on TAP");
        // First resolve Linux's MAC (ARP), so that the send below is the only traffic.
        await sendToLinux(h, LINUX_ADDRESS, 1472, [1472 * 3]);
        const before = counters(h);
        await sendToLinux(h, LINUX_ADDRESS, 1472, [ONE_SEND]);
        assert.deepEqual(difference(counters(h), before), {
          udpDatagrams: 11, // each datagram the send stands for
          ipv4Packets: 1, // one IPv4 header built and routed, one pass through the hooks
          segmentedBySoftware: offload ? 0 : 11, // cut before the link when it has no USO
          interfaceTx: offload ? 1 : 11, // frames handed to the driver
          driverGso: offload ? 1 : 0, // writes with a virtio-net GSO header
        });
      });
    },
  }));
}

Deno.test(gated([...NEEDS, "ethtool"], {
  name:
    "tap with USO: Linux cuts the stack's super-datagrams onto a veth without offloads; the capture there is tshark-clean and the receiver behind gets every datagram",
  async fn() {
    await withDevice({ mode: "tap", offload: true, capture: false }, async (h) => {
      assert.equal(h.dev.usoMaxSize, 65535, "this kernel refused USO on TAP");
      await withNetnsBehind(h.netns, async (b) => {
        h.stack.addRoute("10.9.0.0/24", { gateway: LINUX_ADDRESS });
        const pcap = await Deno.makeTempFile({ prefix: "uso-tap-", suffix: ".pcap" });
        try {
          const dump = await startTcpdump(b.netns, b.dev, pcap);
          const gso0 = h.dev.stats.txGso;
          try {
            // Full datagrams, a short last one; exactly 128 (UDP_MAX_SEGMENTS); one.
            await sendToLinux({ ...h, netns: b.netns }, b.address, 1472, [ONE_SEND, 1472 * 2]);
            await sendToLinux({ ...h, netns: b.netns }, b.address, 200, [200 * 128, 1]);
          } finally {
            await dump.stop();
          }
          assert.equal(
            h.dev.stats.txGso - gso0,
            3,
            "each send of more than one datagram one write",
          );
          await assertCleanDatagrams(pcap, 11 + 2 + 128 + 1);
        } finally {
          await Deno.remove(pcap);
        }
      });
    });
  },
}));
