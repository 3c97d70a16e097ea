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
import { conntrackPlugin, natPlugin } from "../../mod.ts";
import { pluginsWith } from "../_test_plugins.ts";
import { type DeviceHarness, INTEROP_NEEDS, LINUX_ADDRESS, withDevice } from "./_netns.ts";
import { addIpv6Pair, LINUX6 } from "./_ipv6.ts";
import { sendToLinux } from "./_udp_receiver.ts";
import { gated, type Requirement } from "../_require.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { tsharkUdpChecksums } from "../udp/_uso.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3", "tshark"];

/**
 * A stack on a TUN device (`offload`) in a fresh namespace, fd00::2/64 too,
 * its own frames captured; `checkUdp` gets the capture's datagrams (length
 * and checksum status) once tshark finds it clean.
 */
function withHost(
  options: {
    readonly offload: boolean;
    readonly natRules?: string;
    readonly checkUdp: (lines: string[]) => void;
  },
  fn: (h: DeviceHarness) => Promise<void>,
): Promise<void> {
  const rules = options.natRules;
  return withDevice({
    mode: "tun",
    offload: options.offload,
    capture: "stack",
    ...(rules === undefined ? {} : {
      plugins: () => pluginsWith({ conntrack: {}, nat: { rules } }, [conntrackPlugin, natPlugin]),
    }),
    checkCapture: async (pcap) => options.checkUdp(await cleanUdpChecksums(pcap)),
  }, async (h) => {
    // TUN is point-to-point and NOARP: no DAD on either side.
    await addIpv6Pair(h);
    await fn(h);
  });
}

// Full-sized datagrams (1472 over IPv4), a short last one, a single datagram, one byte.
const SENDS_V4 = [1472 * 40, 1472 * 3 + 5, 1472, 1] as const;

for (const offload of [true, false]) {
  Deno.test(gated(NEEDS, {
    name: `tun ${
      offload ? "with USO" : "offload: false"
    }: Linux receives every datagram of segmentSize sends intact (IPv4, IPv6), capture tshark-clean`,
    async fn() {
      const checkUdp = (lines: string[]) => {
        assert.equal(lines.length, 40 + 4 + 1 + 1 + 128 + 3 + 21 + 1, "datagrams in the capture");
        assert.ok(lines.every((l) => l.endsWith("\t1")), "every UDP checksum good");
      };
      await withHost({ offload, checkUdp }, async (h) => {
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
    },
  }));
}

Deno.test(gated(NEEDS, {
  name:
    "tun with USO through SNAT and DNAT: Linux receives every datagram intact from the translated source",
  async fn() {
    const natRules =
      "snat -o tun0 -p udp --to 10.0.0.3;dnat -p udp --dport 6000 --to 10.0.0.1:5004";
    const checkUdp = (lines: string[]) => {
      assert.equal(lines.length, 31 + 2);
      assert.ok(lines.every((l) => l.endsWith("\t1")), "every UDP checksum good");
    };
    await withHost({ offload: true, natRules, checkUdp }, async (h) => {
      const gso0 = h.dev.stats.txGso;
      const sources = await sendToLinux(h, LINUX_ADDRESS, 1472, [1472 * 30 + 9, 1472 * 2], {
        hostname: "10.0.0.9",
        port: 6000,
      });
      assert.deepEqual([...sources], ["10.0.0.3"]);
      assert.equal(h.dev.stats.txGso - gso0, 2, "each send one super-datagram");
    });
  },
}));

/** The capture is tshark-clean; then its datagrams' lengths and checksum statuses. */
async function cleanUdpChecksums(pcap: string): Promise<string[]> {
  const bytes = await Deno.readFile(pcap);
  await assertTsharkClean(bytes);
  return await tsharkUdpChecksums(bytes);
}
