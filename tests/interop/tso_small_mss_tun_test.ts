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
import { INTEROP_NEEDS, ip, LINUX_ADDRESS, tcpChecksumErrors, withDevice } from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import { kernelPeerListening, kernelPeerReport, startKernelPeer } from "./_kernel_peer.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3"];

Deno.test(gated(NEEDS, {
  name:
    "tun with TSO: a super-segment within the MTU (peer MSS 536) reaches Linux with no checksum error",
  async fn() {
    // Linux's tcpdump would show the super-segment's partial checksum as bad: no capture.
    await withDevice({ mode: "tun", offload: true, capture: false }, async (h) => {
      await ip(["route", "change", "10.0.0.0/24", "dev", "tun0", "advmss", "536"], {
        netns: h.netns,
      });
      const server = startKernelPeer(h.netns, ["recv", LINUX_ADDRESS, "5009"], 30);
      await kernelPeerListening(server);
      const conn = await h.stack.connect({ hostname: LINUX_ADDRESS, port: 5009 });
      const gso0 = h.dev.stats.txGso;
      await conn.write(new Uint8Array(1000).fill(7));
      await conn.closeWrite();
      while ((await conn.read(new Uint8Array(64))) !== null) { /* Linux sends nothing */ }
      conn.close();
      assert.equal((await kernelPeerReport(server)).bytes, 1000);
      assert.equal(h.dev.stats.txGso - gso0, 1, "the 1000 bytes went as one super-segment");
      assert.equal(await tcpChecksumErrors(h.netns), 0, "Linux counted no bad checksum");
    });
  },
}));
