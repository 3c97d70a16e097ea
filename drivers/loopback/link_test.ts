import assert from "node:assert/strict";
import { SECOND } from "../../stack/clock.ts";
import { LINKTYPE_RAW } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../stack/packet_flags.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import {
  finishChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumRange,
} from "../../stack/wire/checksum.ts";
import { SeededRng } from "../../stack/rng.ts";
import type { Faults } from "./faults.ts";
import type { LinkOptions } from "./link.ts";
import { VirtualNetwork } from "./network.ts";
import { hex, TestEndpoint } from "./_test_node.ts";

/** A raw-IP link from endpoint `a` to endpoint `b` with `faults` on a->b. */
function setup(faults: Faults, options: LinkOptions = {}, seed = 1) {
  const net = new VirtualNetwork({ seed });
  const link = net.link({ linkType: LINKTYPE_RAW, ...options, directions: { "a->b": faults } });
  const a = new TestEndpoint(net, link.a);
  const b = new TestEndpoint(net, link.b);
  return { net, link, a, b };
}

/** `n` distinct frames of `size` bytes, numbered in their first 4 bytes. */
function numbered(n: number, size = 64): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const f = new Uint8Array(size);
    new DataView(f.buffer).setUint32(0, i);
    out.push(f);
  }
  return out;
}

function numberOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
}

function assertClean(...pools: { outstanding: number }[]): void {
  for (const p of pools) assert.equal(p.outstanding, 0);
}

Deno.test("loss drops about the configured fraction of 10k frames", () => {
  const { net, link, a, b } = setup({ loss: 0.1 });
  numbered(10_000).forEach((f, i) => a.sendAt(i * 10, f));
  assert.ok(net.runUntilIdle());
  const s = link.stats("a->b");
  assert.equal(s.sent, 10_000);
  assert.equal(s.delivered + s.dropped.loss, 10_000);
  assert.equal(b.received.length, s.delivered);
  // σ = √(10000·0.1·0.9) = 30 frames; allow 5σ.
  assert.ok(Math.abs(s.dropped.loss - 1_000) < 150, `lost ${s.dropped.loss}`);
  assertClean(a.pool, b.pool, net.pool);
});

Deno.test("loss applies to its direction only", () => {
  const { net, link, a, b } = setup({ loss: 1 });
  a.sendAt(0, new Uint8Array(20));
  b.sendAt(0, new Uint8Array(20));
  net.runUntilIdle();
  assert.equal(b.received.length, 0);
  assert.equal(a.received.length, 1);
  assert.equal(link.stats("b->a").delivered, 1);
});

Deno.test("duplicate delivers identical back-to-back copies in new buffers", () => {
  const { net, link, a, b } = setup({ duplicate: 0.2, delay: 100 });
  numbered(10_000).forEach((f, i) => a.sendAt(i * 10, f));
  net.runUntilIdle();
  const s = link.stats("a->b");
  assert.ok(Math.abs(s.duplicated - 2_000) < 250, `duplicated ${s.duplicated}`);
  assert.equal(s.delivered, 10_000 + s.duplicated);
  let pairs = 0;
  for (let i = 1; i < b.received.length; i++) {
    if (hex(b.received[i]!.bytes) === hex(b.received[i - 1]!.bytes)) {
      pairs++;
      assert.equal(b.received[i]!.at, b.received[i - 1]!.at);
    }
  }
  assert.equal(pairs, s.duplicated);
  assertClean(a.pool, b.pool, net.pool);
});

Deno.test("reorder lets later frames overtake held-back ones", () => {
  const { net, link, a, b } = setup({ reorder: 0.1, reorderDelay: 1_000, delay: 500 });
  numbered(1_000).forEach((f, i) => a.sendAt(i * 100, f));
  net.runUntilIdle();
  const order = b.received.map((r) => numberOf(r.bytes));
  assert.equal(order.length, 1_000);
  assert.deepEqual([...order].sort((x, y) => x - y), order.map((_, i) => i));
  let inversions = 0;
  for (let i = 1; i < order.length; i++) if (order[i]! < order[i - 1]!) inversions++;
  const s = link.stats("a->b");
  assert.ok(inversions > 50, `only ${inversions} inversions`);
  assert.ok(Math.abs(s.reordered - 100) < 50, `reordered ${s.reordered}`);
  // A held-back frame arrives exactly reorderDelay late.
  for (const r of b.received) {
    const late = r.at - numberOf(r.bytes) * 100 - 500;
    assert.ok(late === 0 || late === 1_000, `late by ${late}`);
  }
});

Deno.test("delay without jitter is exact", () => {
  const { net, a, b } = setup({ delay: 10_000 });
  numbered(10).forEach((f, i) => a.sendAt(i * 1_000, f));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => r.at), numbered(10).map((_, i) => i * 1_000 + 10_000));
});

Deno.test("jitter varies the delay within ±jitter and keeps FIFO order", () => {
  const { net, a, b } = setup({ delay: 10_000, jitter: 2_000 });
  numbered(2_000).forEach((f, i) => a.sendAt(i * 50, f));
  net.runUntilIdle();
  const delays = new Set<number>();
  b.received.forEach((r, i) => {
    assert.equal(numberOf(r.bytes), i);
    const d = r.at - i * 50;
    assert.ok(d >= 8_000 && d <= 12_000, `delay ${d}`);
    delays.add(d);
  });
  assert.ok(delays.size > 100);
});

Deno.test("jitter larger than delay never delivers before the send", () => {
  const { net, a, b } = setup({ delay: 100, jitter: 1_000 });
  numbered(200).forEach((f, i) => a.sendAt(i * 10_000, f));
  net.runUntilIdle();
  for (const r of b.received) assert.ok(r.at >= numberOf(r.bytes) * 10_000);
});

Deno.test("corrupt flips exactly one bit", () => {
  const { net, link, a, b } = setup({ corrupt: 1 });
  const rng = new SeededRng(3);
  for (let i = 0; i < 500; i++) {
    const f = new Uint8Array(1 + rng.range(0, 99));
    rng.fill(f);
    a.sendAt(i, f);
  }
  net.runUntilIdle();
  assert.equal(link.stats("a->b").corrupted, 500);
  b.received.forEach((r, i) => {
    const sent = a.sent[i]!.bytes;
    assert.equal(r.bytes.length, sent.length);
    let bits = 0;
    for (let j = 0; j < sent.length; j++) {
      for (let x = sent[j]! ^ r.bytes[j]!; x !== 0; x &= x - 1) bits++;
    }
    assert.equal(bits, 1);
  });
});

Deno.test("corrupt probability is honoured", () => {
  const { net, link, a } = setup({ corrupt: 0.3 });
  numbered(5_000).forEach((f, i) => a.sendAt(i, f));
  net.runUntilIdle();
  const c = link.stats("a->b").corrupted;
  assert.ok(Math.abs(c - 1_500) < 200, `corrupted ${c}`);
});

Deno.test("1 Mbit/s link delivers 125 kB in 1 s of virtual time", () => {
  const { net, a, b } = setup({ bandwidth: 1_000_000 });
  numbered(125, 1_000).forEach((f) => a.sendAt(0, f));
  net.runUntilIdle();
  assert.equal(b.received.length, 125);
  // Serialization: 1000 B × 8 / 1 Mbit/s = 8 ms each, back to back.
  b.received.forEach((r, i) => assert.equal(r.at, (i + 1) * 8_000));
  assert.equal(net.now(), SECOND);
});

Deno.test("bandwidth and delay add up", () => {
  const { net, a, b } = setup({ bandwidth: 8_000_000, delay: 5_000 });
  a.sendAt(0, new Uint8Array(1_000)); // 1 ms on the wire
  net.runUntilIdle();
  assert.equal(b.received[0]!.at, 6_000);
});

Deno.test("queueLimit in packets tail-drops what does not fit", () => {
  const { net, link, a, b } = setup({ bandwidth: 1_000_000, queueLimit: { packets: 10 } });
  numbered(100, 1_000).forEach((f) => a.sendAt(0, f));
  numbered(1, 1_000).forEach((f) => a.sendAt(SECOND, f)); // after the queue drained
  net.runUntilIdle();
  const s = link.stats("a->b");
  assert.equal(s.dropped.queue_full, 90);
  assert.deepEqual(
    b.received.slice(0, 10).map((r) => numberOf(r.bytes)),
    numbered(10).map((_, i) => i),
  );
  assert.equal(b.received.length, 11);
  assertClean(a.pool, b.pool);
});

Deno.test("queueLimit in bytes tail-drops what does not fit", () => {
  const { net, link, b, a } = setup({ bandwidth: 1_000_000, queueLimit: { bytes: 5_000 } });
  numbered(20, 1_000).forEach((f) => a.sendAt(0, f));
  a.sendAt(8_000, new Uint8Array(1_000)); // one frame has left the queue: room again
  net.runUntilIdle();
  assert.equal(link.stats("a->b").dropped.queue_full, 15);
  assert.equal(b.received.length, 6);
});

Deno.test("mtu drops Ethernet frames whose payload exceeds it", () => {
  const net = new VirtualNetwork();
  const link = net.link({ mtu: 1500 });
  const a = new TestEndpoint(net, link.a);
  const b = new TestEndpoint(net, link.b);
  const vlan = (len: number) => {
    const f = new Uint8Array(len);
    f[12] = 0x81;
    f[13] = 0x00;
    return f;
  };
  a.sendNow(new Uint8Array(1514));
  a.sendNow(new Uint8Array(1515));
  a.sendNow(vlan(1518));
  a.sendNow(vlan(1519));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => r.bytes.length), [1514, 1518]);
  assert.equal(link.stats("a->b").dropped.mtu, 2);
  assertClean(a.pool, b.pool);
});

Deno.test("mtu drops raw IP packets longer than it", () => {
  const { net, link, a, b } = setup({}, { mtu: 1280 });
  a.sendNow(new Uint8Array(1280));
  a.sendNow(new Uint8Array(1281));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => r.bytes.length), [1280]);
  assert.equal(link.stats("a->b").dropped.mtu, 1);
});

Deno.test("partition at a time drops frames sent and in flight; heal restores", () => {
  const { net, link, a, b } = setup({ delay: 150_000 });
  numbered(30).forEach((f, i) => a.sendAt(i * 100_000, f));
  net.at(1 * SECOND, () => link.partition());
  net.at(2 * SECOND, () => link.heal());
  net.runUntilIdle();
  const got = b.received.map((r) => numberOf(r.bytes));
  // 0..8 arrive before the cut; 9 is in flight at the cut; 10..19 are sent
  // into it; 19 is still in flight at the heal; 20.. are sent after the heal.
  assert.deepEqual(got, [...Array(9).keys(), ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
  assert.equal(link.stats("a->b").dropped.partition, 11);
  assertClean(a.pool, b.pool);
});

Deno.test("partition of one direction leaves the other up", () => {
  const { net, link, a, b } = setup({});
  link.partition("a->b");
  a.sendNow(new Uint8Array(10));
  b.sendNow(new Uint8Array(10));
  net.runUntilIdle();
  assert.equal(b.received.length, 0);
  assert.equal(a.received.length, 1);
  assert.ok(link.isPartitioned("a->b"));
  assert.ok(!link.isPartitioned("b->a"));
});

Deno.test("setFaults replaces a direction's faults and validates them", () => {
  const net = new VirtualNetwork();
  const link = net.link({ faults: { delay: 5, loss: 0.5 } });
  link.setFaults("both", { jitter: 3 });
  assert.deepEqual(link.faults("a->b"), { jitter: 3 });
  assert.throws(() => link.setFaults("a->b", { loss: -0.1 }), RangeError);
  assert.throws(() => link.setFaults("a->b", { delay: 1.5 }), RangeError);
  assert.throws(() => link.setFaults("a->b", { bandwidth: 0 }), RangeError);
  assert.throws(() => link.setFaults("a->b", { queueLimit: { packets: 0 } }), RangeError);
  assert.throws(() => net.link({ linkType: 9999 }), RangeError);
  assert.throws(() => net.link({ linkType: LINKTYPE_RAW, macA: new Uint8Array(6) }), TypeError);
  assert.throws(() => net.link({ macA: new Uint8Array(5) }), RangeError);
});

Deno.test("Ethernet ends get sequential locally administered MACs", () => {
  const net = new VirtualNetwork();
  const l1 = net.link();
  const raw = net.link({ linkType: LINKTYPE_RAW });
  const l2 = net.link({ macB: new Uint8Array([2, 1, 2, 3, 4, 5]) });
  assert.deepEqual([...l1.a.mac!], [2, 0, 0, 0, 0, 1]);
  assert.deepEqual([...l1.b.mac!], [2, 0, 0, 0, 0, 2]);
  assert.equal(raw.a.mac, undefined);
  assert.deepEqual([...l2.a.mac!], [2, 0, 0, 0, 0, 3]);
  assert.deepEqual([...l2.b.mac!], [2, 1, 2, 3, 4, 5]);
  assert.equal(l1.a.mtu, 1500);
  assert.equal(`${l2.b}`, "link2.b");
});

Deno.test("frames for an unattached or closed end are released and counted", () => {
  const net = new VirtualNetwork();
  const link = net.link({ faults: { delay: 10 } });
  const a = new TestEndpoint(net, link.a);
  a.sendNow(new Uint8Array(60));
  net.runUntilIdle();
  const b = new TestEndpoint(net, link.b);
  a.sendNow(new Uint8Array(60));
  link.b.close();
  net.runUntilIdle();
  link.a.close();
  a.sendNow(new Uint8Array(60));
  assert.equal(link.stats("a->b").dropped.detached, 3);
  assert.equal(b.received.length, 0);
  assert.throws(() => link.a.attach(a), /closed/);
  assertClean(a.pool, b.pool);
});

Deno.test("attaching twice throws", () => {
  const net = new VirtualNetwork();
  const link = net.link();
  new TestEndpoint(net, link.a);
  assert.throws(() => new TestEndpoint(net, link.a), /already attached/);
});

Deno.test("the receiver gets the frame with headroom and its own metadata", () => {
  const net = new VirtualNetwork({ start: 500 });
  const link = net.link({ faults: { delay: 10 } });
  const a = new TestEndpoint(net, link.a);
  const seen: number[] = [];
  const pool = a.pool;
  link.b.attach({
    pool,
    ifindex: 7,
    now: () => net.now(),
    receive(pkt) {
      seen.push(pkt.ifindex, pkt.timestamp, pkt.linkType, pkt.headroom, pkt.length);
      pkt.release();
    },
  });
  a.sendNow(new Uint8Array(60));
  net.runUntilIdle();
  assert.deepEqual(seen, [7, 510, 1, 128, 60]);
  assertClean(pool);
});

Deno.test("a frame with room in front is handed over as it is; one without is copied with full headroom", () => {
  const net = new VirtualNetwork();
  const link = net.link();
  const a = new TestEndpoint(net, link.a);
  const bPool = new PacketPool();
  const got: { pkt: PacketBuffer; headroom: number; l3: number }[] = [];
  link.b.attach({
    pool: bPool,
    ifindex: 1,
    now: () => net.now(),
    receive(pkt) {
      got.push({ pkt, headroom: pkt.headroom, l3: pkt.l3 });
      pkt.release();
    },
  });
  const roomy = a.pool.copyOf(new Uint8Array(60), 62); // a TCP segment's headroom
  roomy.l3 = 14; // metadata of the sender's that must not arrive
  const tight = a.pool.copyOf(new Uint8Array(60), 8);
  link.a.transmit(roomy);
  link.a.transmit(tight);
  net.runUntilIdle();
  assert.equal(got.length, 2);
  assert.equal(got[0]!.pkt, roomy); // the same buffer: no copy
  assert.deepEqual([got[0]!.headroom, got[0]!.l3], [62, -1]);
  assert.notEqual(got[1]!.pkt, tight);
  assert.equal(got[1]!.headroom, 128);
  assertClean(a.pool, bPool); // the handed-over buffer went back to the sender's pool
});

Deno.test("a checksum the sender summed arrives vouched for, unless the link corrupted the frame", () => {
  for (const corrupt of [0, 1]) {
    const net = new VirtualNetwork();
    const link = net.link({ faults: { corrupt } });
    const a = new TestEndpoint(net, link.a);
    const flags: number[] = [];
    link.b.attach({
      pool: a.pool,
      ifindex: 1,
      now: () => net.now(),
      receive(pkt) {
        flags.push(pkt.flags);
        pkt.release();
      },
    });
    // Only the checksum mark crosses: the receiver's other flags are its own.
    for (const mark of [0, PacketFlags.CHECKSUM_VERIFIED | PacketFlags.LINK_BROADCAST]) {
      const pkt = a.pool.copyOf(new Uint8Array(60));
      pkt.flags = mark;
      link.a.transmit(pkt);
    }
    net.runUntilIdle();
    assert.deepEqual(flags, corrupt === 0 ? [0, PacketFlags.CHECKSUM_VERIFIED] : [0, 0]);
    assertClean(a.pool);
  }
});

const PARTIAL_SRC = 0x0a000001, PARTIAL_DST = 0x0a000002;
const PARTIAL_SRC6 = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const PARTIAL_DST6 = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

/** Where TCP starts in a frame from {@linkcode partialSegment} of `family`. */
const tcpAt = (family: 4 | 6) => family === 4 ? 34 : 54;

/** The pseudo-header sum of a segment from {@linkcode partialSegment} of `family`. */
function partialPseudo(family: 4 | 6): number {
  return family === 4
    ? pseudoHeaderSumV4(PARTIAL_SRC, PARTIAL_DST, 6, 120)
    : pseudoHeaderSumV6(PARTIAL_SRC6, PARTIAL_DST6, 6, 120);
}

/**
 * An Ethernet/IPv4 (or IPv6)/TCP frame (100 bytes of data) as TCP leaves it
 * for a link that takes partial checksums: the pseudo-header sum in the
 * field, `l4` set.
 */
function partialSegment(pool: PacketPool, headroom: number, family: 4 | 6 = 4): PacketBuffer {
  const l4 = tcpAt(family);
  const pkt = pool.alloc(l4 + 20 + 100, headroom);
  const b = pkt.data;
  b.fill(0);
  if (family === 4) {
    b.set([0x08, 0x00], 12);
    b.set([0x45, 0, 0, 140, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  } else {
    b.set([0x86, 0xdd], 12);
    b.set([0x60, 0, 0, 0, 0, 120, 6, 64], 14);
    b.set(PARTIAL_SRC6, 22);
    b.set(PARTIAL_DST6, 38);
  }
  b[l4 + 12] = 5 << 4;
  for (let i = l4 + 20; i < b.length; i++) b[i] = i * 7;
  new DataView(b.buffer, b.byteOffset).setUint16(
    l4 + 16,
    ~finishChecksum(partialPseudo(family)) & 0xffff,
  );
  pkt.l4 = pkt.start + l4;
  pkt.flags = PacketFlags.CHECKSUM_PARTIAL | PacketFlags.CHECKSUM_VERIFIED;
  return pkt;
}

/** Whether the TCP checksum of a frame from {@linkcode partialSegment} is whole and right. */
function tcpChecksumValid(frame: Uint8Array, family: 4 | 6 = 4): boolean {
  return sumRange(frame, tcpAt(family), frame.length, partialPseudo(family)) === 0xffff;
}

Deno.test("a partial TCP checksum (IPv4, IPv6) reaches a stack's port partial, and any other receiver whole", () => {
  for (const family of [4, 6] as const) {
    for (const partialChecksum of [true, false]) {
      for (const headroom of [62, 8]) { // handed over, or copied
        const net = new VirtualNetwork();
        const link = net.link();
        const a = new TestEndpoint(net, link.a);
        const got: { flags: number; l4: number; frame: Uint8Array }[] = [];
        link.b.attach({
          pool: a.pool,
          ifindex: 1,
          now: () => net.now(),
          partialChecksum,
          receive(pkt) {
            got.push({ flags: pkt.flags, l4: pkt.l4 - pkt.start, frame: pkt.data.slice() });
            if (partialChecksum) finishPartialChecksum(pkt); // what the stack does before reading
            got.push({ flags: pkt.flags, l4: pkt.l4 - pkt.start, frame: pkt.data.slice() });
            pkt.release();
          },
        });
        assert.equal(link.a.partialChecksum, true);
        link.a.transmit(partialSegment(a.pool, headroom, family));
        net.runUntilIdle();
        const [arrived, read] = got;
        const verified = PacketFlags.CHECKSUM_VERIFIED;
        if (partialChecksum) {
          assert.equal(arrived!.flags, PacketFlags.CHECKSUM_PARTIAL | verified);
          assert.equal(arrived!.l4, tcpAt(family));
          assert.ok(!tcpChecksumValid(arrived!.frame, family));
        } else {
          assert.equal(arrived!.flags, verified);
        }
        assert.equal(read!.flags, verified);
        assert.ok(tcpChecksumValid(read!.frame, family));
        assertClean(a.pool);
      }
    }
  }
});

Deno.test("a partial TCP checksum (IPv4, IPv6) is completed before a switch, a duplicate or damage", () => {
  for (const family of [4, 6] as const) {
    for (const faults of [{ duplicate: 1 }, { corrupt: 1 }] as Faults[]) {
      const net = new VirtualNetwork();
      const link = net.link({ faults });
      const a = new TestEndpoint(net, link.a);
      const got: Uint8Array[] = [];
      const flags: number[] = [];
      link.b.attach({
        pool: a.pool,
        ifindex: 1,
        now: () => net.now(),
        partialChecksum: true,
        receive(pkt) {
          flags.push(pkt.flags);
          got.push(pkt.data.slice());
          pkt.release();
        },
      });
      link.a.transmit(partialSegment(a.pool, 62, family));
      net.runUntilIdle();
      assert.ok(flags.every((f) => (f & PacketFlags.CHECKSUM_PARTIAL) === 0));
      if (faults.duplicate) {
        assert.ok(got.length === 2 && got.every((f) => tcpChecksumValid(f, family)));
      } else {
        // Completed first, then one bit flipped: a receiver's sum finds the damage.
        const whole = partialSegment(a.pool, 62, family);
        finishPartialChecksum(whole);
        let bits = 0;
        for (let i = 0; i < whole.length; i++) {
          for (let x = whole.data[i]! ^ got[0]![i]!; x !== 0; x &= x - 1) bits++;
        }
        whole.release();
        assert.ok(got.length === 1 && bits === 1);
      }
      assertClean(a.pool);
    }
    const net = new VirtualNetwork();
    const sw = net.switch();
    const [p0, p1] = [sw.port(), sw.port()];
    const got: { flags: number; frame: Uint8Array }[] = [];
    p1.attach({
      pool: net.pool,
      ifindex: 1,
      now: () => net.now(),
      partialChecksum: true,
      receive(pkt) {
        got.push({ flags: pkt.flags, frame: pkt.data.slice() });
        pkt.release();
      },
    });
    const pkt = partialSegment(net.pool, 62, family);
    pkt.data.fill(0xff, 0, 6); // broadcast: flooded to p1
    p0.transmit(pkt);
    net.runUntilIdle();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.flags & PacketFlags.CHECKSUM_PARTIAL, 0);
    assert.ok(tcpChecksumValid(got[0]!.frame, family));
  }
});

Deno.test("every frame is accounted for under all faults at once", () => {
  const { net, link, a, b } = setup({
    loss: 0.05,
    duplicate: 0.05,
    reorder: 0.05,
    delay: 2_000,
    jitter: 1_000,
    corrupt: 0.05,
    bandwidth: 10_000_000,
    queueLimit: { packets: 20 },
  });
  const rng = new SeededRng(9);
  for (let i = 0; i < 5_000; i++) {
    const f = new Uint8Array(rng.range(20, 1_500));
    rng.fill(f);
    a.sendAt(rng.range(0, SECOND), f);
  }
  net.runFor(SECOND / 2);
  const mid = link.stats("a->b");
  const dropped = (s: typeof mid) => Object.values(s.dropped).reduce((x, y) => x + y, 0);
  assert.equal(mid.sent + mid.duplicated, mid.delivered + dropped(mid) + link.inFlight("a->b"));
  assert.ok(link.inFlight("a->b") > 0);
  net.close();
  const end = link.stats("a->b");
  assert.equal(end.sent + end.duplicated, end.delivered + dropped(end));
  assert.equal(end.delivered, b.received.length);
  assert.ok(end.dropped.queue_full > 0 && end.dropped.loss > 0 && end.duplicated > 0);
  assertClean(a.pool, b.pool, net.pool);
});
