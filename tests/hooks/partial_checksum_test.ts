/**
 * What hooks see of packets whose TCP/UDP checksum is partial
 * (`PacketFlags.CHECKSUM_PARTIAL`), as `HOOK_POINTS` (stack/manifest.ts)
 * documents: a TCP/IPv4 segment a TUN driver left partial is partial at
 * `ingress` and whole (completed, valid) at `prerouting` and `input`; a UDP
 * super-datagram the stack sends is partial at `output` and `postrouting`,
 * and at `egress` only when the link takes it whole (USO): otherwise egress
 * sees each datagram, complete; a TCP super-segment for a TSO link is
 * partial at all three.
 *
 * The link is hand-made (raw IP): it hands the stack a packet flagged as the
 * TUN driver flags one (drivers/tun/io.ts), and keeps what it is given.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, DEFAULT_PLUGINS, type PacketBuffer, PacketFlags } from "../../mod.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import { pseudoHeaderSumV4, sumRange } from "../../stack/wire/checksum.ts";
import { ip, ipv4Packet } from "../_harness.ts";
import { type HookSight, hookWatcher } from "./_watcher.ts";

/** One hook call: the point, whether the checksum was partial, the packet's gsoSize, and whether its TCP/UDP checksum verifies as it stands. */
type Seen = HookSight & { readonly gsoSize: number; readonly checksumValid: boolean };

/** Whether the TCP/UDP checksum of the IPv4 packet at `at` verifies as the bytes stand. */
function transportChecksumValid(buf: Uint8Array, at: number, end: number): boolean {
  const dv = new DataView(buf.buffer, buf.byteOffset);
  const hl = (buf[at]! & 0x0f) << 2;
  const proto = buf[at + 9]!;
  const len = end - at - hl;
  const pseudo = pseudoHeaderSumV4(dv.getUint32(at + 12), dv.getUint32(at + 16), proto, len);
  return sumRange(buf, at + hl, end, pseudo) === 0xffff;
}

/** A plugin joining every hook point, recording TCP and UDP packets. */
function watcher(seen: Seen[]) {
  return hookWatcher(seen, (pkt) => {
    const at = pkt.start; // raw IP: the IPv4 header at every point
    const proto = pkt.buf[at + 9];
    if (proto !== 6 && proto !== 17) return null;
    return { gsoSize: pkt.gsoSize, checksumValid: transportChecksumValid(pkt.buf, at, pkt.end) };
  });
}

/** A raw-IP link (USO when `uso`) that keeps what it is given and can hand the stack a packet. */
class HandLink implements LinkDriver {
  readonly linkType = 101;
  readonly mtu = 1500;
  readonly usoMaxSize: number;
  readonly tsoMaxSize: number;
  readonly sent: Uint8Array[] = [];
  #port: DriverPort | null = null;
  constructor(uso: boolean, tso = false) {
    this.usoMaxSize = uso ? 65535 : 0;
    this.tsoMaxSize = tso ? 65535 : 0;
  }
  attach(port: DriverPort): void {
    this.#port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.sent.push(pkt.data.slice());
    pkt.release();
  }
  close(): void {}
  /** Hands `bytes` to the stack with `flags`, `l4` at `l4` (as a TUN driver does). */
  receive(bytes: Uint8Array, flags: number, l4: number): void {
    const pkt = this.#port!.pool.alloc(bytes.length);
    pkt.data.set(bytes);
    pkt.flags |= flags;
    pkt.l4 = pkt.start + l4;
    this.#port!.receive(pkt);
  }
}

function stackOn(link: HandLink, seen: Seen[]) {
  const stack = createStack({ seed: 31, plugins: [...DEFAULT_PLUGINS, watcher(seen)] });
  stack.addInterface({ name: "tun0", driver: link, addresses: ["10.0.0.2/24"] });
  return stack;
}

Deno.test("hooks: a TCP/IPv4 segment a TUN left partial is partial at ingress, whole and valid at prerouting and input", () => {
  const seen: Seen[] = [];
  const link = new HandLink(false);
  const stack = stackOn(link, seen);
  const listener = stack.listen({ port: 80 });
  // A SYN from Linux whose checksum field holds only the pseudo-header sum (NEEDS_CSUM).
  const tcp = new Uint8Array(20);
  const dv = new DataView(tcp.buffer);
  dv.setUint16(0, 40000);
  dv.setUint16(2, 80);
  dv.setUint32(4, 1000);
  tcp[12] = 5 << 4;
  tcp[13] = 0x02; // SYN
  dv.setUint16(14, 65535);
  dv.setUint16(16, pseudoHeaderSumV4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 20));
  const packet = ipv4Packet({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 6 }, tcp);
  link.receive(packet, PacketFlags.CHECKSUM_PARTIAL | PacketFlags.CHECKSUM_VERIFIED, 20);
  const rx = seen.filter((s) =>
    s.point === "ingress" || s.point === "prerouting" || s.point === "input"
  );
  assert.deepEqual(rx, [
    { point: "ingress", partial: true, gsoSize: 0, checksumValid: false },
    { point: "prerouting", partial: false, gsoSize: 0, checksumValid: true },
    { point: "input", partial: false, gsoSize: 0, checksumValid: true },
  ]);
  // TCP took it: the SYN-ACK went out.
  assert.equal(link.sent.length, 1);
  assert.equal(link.sent[0]![20 + 13], 0x12);
  listener.close();
  stack.close();
});

for (const uso of [true, false]) {
  Deno.test(
    `hooks: a UDP super-datagram is partial at output and postrouting; at egress ${
      uso ? "whole on a USO link" : "as its datagrams, each complete"
    }`,
    async () => {
      const seen: Seen[] = [];
      const link = new HandLink(uso);
      const stack = stackOn(link, seen);
      const conn = stack.listenDatagram({ transport: "udp", port: 7001, segmentSize: 1000 });
      // The neighbour question does not arise on raw IP: the send goes straight out.
      await conn.send(new Uint8Array(2500).fill(9), { hostname: "10.0.0.1", port: 7000 });
      const tx = seen.filter((s) => s.point !== "ingress");
      const superDatagram = { partial: true, gsoSize: 1000, checksumValid: false };
      const datagram = { point: "egress", partial: false, gsoSize: 0, checksumValid: true };
      assert.deepEqual(tx, [
        { point: "output", ...superDatagram },
        { point: "postrouting", ...superDatagram },
        ...(uso ? [{ point: "egress", ...superDatagram }] : [datagram, datagram, datagram]),
      ]);
      assert.equal(link.sent.length, uso ? 1 : 3);
      conn.close();
      stack.close();
    },
  );
}

Deno.test("hooks: a TCP super-segment for a TSO link is partial at output, postrouting and egress", async () => {
  const seen: Seen[] = [];
  const link = new HandLink(false, true);
  const stack = stackOn(link, seen);
  const connecting = stack.connect({ hostname: "10.0.0.1", port: 80 });
  // Linux's SYN-ACK to the stack's SYN, MSS 1460, checksum whole.
  const syn = link.sent.at(-1)!;
  const sdv = new DataView(syn.buffer, syn.byteOffset);
  const tcp = new Uint8Array(24);
  const dv = new DataView(tcp.buffer);
  dv.setUint16(0, 80);
  dv.setUint16(2, sdv.getUint16(20));
  dv.setUint32(4, 5000);
  dv.setUint32(8, (sdv.getUint32(24) + 1) >>> 0);
  tcp[12] = 6 << 4;
  tcp[13] = 0x12; // SYN, ACK
  dv.setUint16(14, 65535);
  tcp.set([2, 4, 0x05, 0xb4], 20); // MSS 1460
  const pseudo = pseudoHeaderSumV4(ip("10.0.0.1"), ip("10.0.0.2"), 6, 24);
  dv.setUint16(16, ~sumRange(tcp, 0, 24, pseudo) & 0xffff);
  link.receive(ipv4Packet({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 6 }, tcp), 0, 20);
  const conn = await connecting;
  seen.length = 0;
  await conn.write(new Uint8Array(4000).fill(5));
  const big = seen.filter((s) => s.gsoSize > 0);
  const superSegment = { partial: true, gsoSize: 1460, checksumValid: false };
  assert.deepEqual(big, [
    { point: "output", ...superSegment },
    { point: "postrouting", ...superSegment },
    { point: "egress", ...superSegment },
  ]);
  conn.close();
  stack.close();
});
