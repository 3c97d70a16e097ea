/**
 * A TCP super-segment that fits the MTU, over a TUN with TSO: to a Linux
 * peer advertising MSS 536, a 1000-byte write is one packet of 1052 bytes
 * holding two segments, its checksum field only the pseudo-header sum. The
 * driver must describe it to Linux (virtio-net GSO, NEEDS_CSUM); written
 * with a zero header it was dropped as a bad checksum (Linux counted
 * InCsumErrors) and the data came only with the retransmission.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, type Stack } from "../../mod.ts";
import { openTun, RealTimeRunner, type TunDevice } from "../../drivers/tun/mod.ts";
import { SystemClock } from "../../stack/clock.ts";
import { addNetns, deleteNetns } from "../../cli/_netns.ts";
import {
  configurePeer,
  INTEROP_NEEDS,
  ip,
  LINUX_ADDRESS,
  netnsExec,
  STACK_ADDRESS,
  uniqueNetnsName,
} from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import { kernelPeerListening, kernelPeerReport, startKernelPeer } from "./_kernel_peer.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3"];

/** Linux's TCP InCsumErrors in `netns`. */
async function tcpChecksumErrors(netns: string): Promise<number> {
  const r = await netnsExec(netns, ["cat", "/proc/net/snmp"], 5);
  const tcp = r.stdout.split("\n").filter((l) => l.startsWith("Tcp:"));
  const names = tcp[0]!.split(/\s+/), values = tcp[1]!.split(/\s+/);
  return Number(values[names.indexOf("InCsumErrors")]);
}

Deno.test(gated(NEEDS, {
  name:
    "tun with TSO: a super-segment within the MTU (peer MSS 536) reaches Linux with no checksum error",
  async fn() {
    const netns = uniqueNetnsName("mss");
    await addNetns(netns);
    let dev: TunDevice | null = null;
    let stack: Stack | null = null;
    let runner: RealTimeRunner | null = null;
    try {
      const clock = new SystemClock();
      stack = createStack({ clock, seed: 3 });
      dev = openTun({ mode: "tun", name: "tun0", netns, offload: true });
      stack.addInterface({ driver: dev, addresses: [`${STACK_ADDRESS}/24`] });
      runner = new RealTimeRunner(stack, { clock });
      dev.onBatch = runner.kick;
      runner.start();
      await configurePeer("tun0", { addresses: [`${LINUX_ADDRESS}/24`], netns });
      await ip(["route", "change", "10.0.0.0/24", "dev", "tun0", "advmss", "536"], { netns });
      const server = startKernelPeer(netns, ["recv", LINUX_ADDRESS, "5009"], 30);
      await kernelPeerListening(server);
      const conn = await stack.connect({ hostname: LINUX_ADDRESS, port: 5009 });
      const gso0 = dev.stats.txGso;
      await conn.write(new Uint8Array(1000).fill(7));
      await conn.closeWrite();
      while ((await conn.read(new Uint8Array(64))) !== null) { /* Linux sends nothing */ }
      conn.close();
      assert.equal((await kernelPeerReport(server)).bytes, 1000);
      assert.equal(dev.stats.txGso - gso0, 1, "the 1000 bytes went as one super-segment");
      assert.equal(await tcpChecksumErrors(netns), 0, "Linux counted no bad checksum");
    } finally {
      runner?.stop();
      stack?.close();
      dev?.close();
      await dev?.closed;
      await deleteNetns(netns);
    }
  },
}));
