/**
 * review15, risk 1: the in-memory wire's `own()` (a lane writing to a frame
 * someone else still has: an ECN mark, a corrupted bit) copied only the
 * bytes, so a TCP segment whose checksum was left partial
 * (`PacketFlags.CHECKSUM_PARTIAL`, the stack's word that the link sums it)
 * lost the flag with the copy and left the link with the pseudo-header sum
 * in its checksum field. The frames here are shared as a TCP send queue
 * shares its chunks (`PacketBuffer.share`) and partial as TCP leaves them
 * for the in-memory link; the receiver is a plain port (no
 * `partialChecksum`), so it must get every frame summed whole, whatever
 * the lane did to it. Also: the sharer's bytes are never written.
 */
import assert from "node:assert/strict";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import { LINKTYPE_RAW } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { PacketFlags } from "../../stack/packet_flags.ts";
import { pseudoHeaderSumV4, sumRange } from "../../stack/wire/checksum.ts";

const SRC = 0x0a000001, DST = 0x0a000002;
const PAYLOAD = 200;

/** An IPv4 ECT(0) TCP segment, its checksum left partial as tcp/output.ts leaves it. */
function partialSegment(net: VirtualNetwork, seq: number): PacketBuffer {
  const pkt = net.pool.alloc(20 + 20 + PAYLOAD);
  const b = pkt.buf, dv = pkt.dv, ip = pkt.start, tcp = ip + 20;
  b[ip] = 0x45;
  b[ip + 1] = 0x02; // ECT(0)
  dv.setUint16(ip + 2, 40 + PAYLOAD);
  b[ip + 8] = 64;
  b[ip + 9] = 6;
  dv.setUint32(ip + 12, SRC);
  dv.setUint32(ip + 16, DST);
  dv.setUint16(ip + 10, ~sumRange(b, ip, ip + 20) & 0xffff);
  dv.setUint16(tcp, 40000);
  dv.setUint16(tcp + 2, 80);
  dv.setUint32(tcp + 4, seq);
  b[tcp + 12] = 5 << 4;
  b[tcp + 13] = 0x18; // PSH ACK
  dv.setUint16(tcp + 14, 65535);
  for (let i = 0; i < PAYLOAD; i++) b[tcp + 20 + i] = (seq + i * 7) & 0xff;
  // The field holds the pseudo-header sum, folded, not complemented.
  let seed = pseudoHeaderSumV4(SRC, DST, 6, 20 + PAYLOAD);
  while (seed > 0xffff) seed = (seed & 0xffff) + (seed >>> 16);
  dv.setUint16(tcp + 16, seed);
  pkt.l3 = ip;
  pkt.l4 = tcp;
  pkt.family = 4;
  pkt.proto = 6;
  pkt.flags = PacketFlags.CHECKSUM_PARTIAL | PacketFlags.CHECKSUM_VERIFIED;
  return pkt;
}

function tcpChecksumOk(bytes: Uint8Array): boolean {
  const len = bytes.length - 20;
  let s = sumRange(bytes, 20, bytes.length, pseudoHeaderSumV4(SRC, DST, 6, len));
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

function run(faults: Record<string, unknown>, frames: number) {
  const net = new VirtualNetwork({ seed: 9 });
  const { a, b } = net.link({ linkType: LINKTYPE_RAW, directions: { "a->b": faults } });
  const got: { ok: boolean; ecn: number }[] = [];
  b.attach({
    pool: net.pool,
    ifindex: 1,
    now: () => net.now(),
    receive(pkt: PacketBuffer) {
      const bytes = pkt.data.slice();
      got.push({ ok: tcpChecksumOk(bytes), ecn: bytes[1]! & 3 });
      pkt.release();
    },
  });
  const kept: { pkt: PacketBuffer; at: number; bytes: Uint8Array }[] = [];
  for (let i = 0; i < frames; i++) {
    const pkt = partialSegment(net, 1000 + i * PAYLOAD);
    pkt.share(); // the send queue keeps it until acknowledged
    // The receiver may get this very buffer, its metadata cleared: keep the offset.
    kept.push({ pkt, at: pkt.l4 + 20, bytes: pkt.buf.slice(pkt.l4 + 20, pkt.end) });
    a.transmit(pkt);
  }
  net.runFor(1_000_000);
  for (const k of kept) {
    // The sharer's payload is as it made it (a lane wrote to a copy).
    assert.deepEqual(k.pkt.buf.slice(k.at, k.at + PAYLOAD), k.bytes);
    k.pkt.unshare();
  }
  assert.equal(net.pool.outstanding, 0, "every buffer back");
  return { got, stats: a.link.stats("a->b") };
}

Deno.test("review15 wire own(): CE-marked copies of shared segments with a partial checksum arrive summed whole", () => {
  const { got, stats } = run(
    { delay: 1000, bandwidth: 10_000_000, ecnMarkThreshold: 1, queueLimit: { bytes: 100_000 } },
    8,
  );
  assert.equal(got.length, 8);
  assert.ok(stats.ceMarked >= 6, `${stats.ceMarked} marked`);
  assert.equal(got.filter((g) => g.ecn === 3).length, stats.ceMarked);
  assert.deepEqual(got.filter((g) => !g.ok), [], "every checksum verifies");
});

Deno.test("review15 wire own(): corrupted copies of shared partial segments carry a whole checksum (the damage shows)", () => {
  const { got, stats } = run({ delay: 1000, corrupt: 0.5 }, 40);
  assert.equal(got.length, 40);
  assert.ok(stats.corrupted > 5);
  // Every frame left whole verifies; a damaged one fails unless the bit hit
  // a byte of the IP header TCP's checksum does not cover.
  const bad = got.filter((g) => !g.ok).length;
  assert.ok(bad > 0 && bad <= stats.corrupted, `${bad} bad of ${stats.corrupted} corrupted`);
});
