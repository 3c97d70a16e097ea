import assert from "node:assert/strict";
import {
  flowHash,
  openVxlan,
  parseEndpoint,
  VXLAN_TX_PENDING_BYTES,
  type VxlanDevice,
} from "./vxlan.ts";
import type { VxlanEndpoint } from "./fdb.ts";
import type { VxlanTransport } from "./_udp.ts";
import { PacketPool, SMALL_BUFFER_SIZE } from "../../stack/packet_pool.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { createStack, SystemClock } from "../../mod.ts";
import { RealTimeRunner } from "../tun/runner.ts";

const R1 = { hostname: "192.0.2.1", port: 4789 };
const R2 = { hostname: "192.0.2.2", port: 4789 };
const OWN = new Uint8Array([2, 0, 0, 0, 0, 0xaa]);
const PEER = [2, 0, 0, 0, 0, 0xbb];

/** A transport that records what is sent and lets the test inject datagrams. */
function fakeTransport(): VxlanTransport & { sent: [number[], VxlanEndpoint, number][] } {
  const t = {
    local: { hostname: "192.0.2.9", port: 4789 },
    sourcePorts: [49152, 51200, 53248, 55296],
    onDatagram: null as VxlanTransport["onDatagram"],
    sent: [] as [number[], VxlanEndpoint, number][],
    send(data: Uint8Array, to: VxlanEndpoint, flow: number, done: (failed: boolean) => void) {
      t.sent.push([[...data], to, flow % 4]);
      queueMicrotask(() => done(false));
    },
    close: () => Promise.resolve(),
  };
  return t;
}

interface Rig {
  dev: VxlanDevice;
  t: ReturnType<typeof fakeTransport>;
  pool: PacketPool;
  got: number[][];
  now: { t: number };
}

async function rig(remotes = [R1, R2]): Promise<Rig> {
  const t = fakeTransport();
  const dev = await openVxlan({ vni: 42, local: "192.0.2.9", remotes, mac: OWN, transport: t });
  const pool = new PacketPool();
  const got: number[][] = [];
  const now = { t: 0 };
  dev.attach({
    pool,
    ifindex: 1,
    now: () => now.t,
    receive(pkt: PacketBuffer) {
      got.push([...pkt.data]);
      pkt.release();
    },
  });
  return { dev, t, pool, got, now };
}

function frame(pool: PacketPool, dst: number[], src: number[] = [...OWN], len = 60): PacketBuffer {
  const pkt = pool.alloc(len);
  pkt.data.set(dst);
  pkt.data.set(src, 6);
  pkt.data.set([0x08, 0x06], 12);
  return pkt;
}

function datagram(vni: number, dst: number[], src: number[], flags = 0x08): Uint8Array {
  const d = new Uint8Array(8 + 60);
  d[0] = flags;
  d[4] = vni >> 16;
  d[5] = (vni >> 8) & 0xff;
  d[6] = vni & 0xff;
  d.set(dst, 8);
  d.set(src, 14);
  return d;
}

const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("vxlan: broadcast is replicated to every remote of the flood list", async () => {
  const { dev, t, pool } = await rig();
  dev.transmit(frame(pool, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  await settle();
  assert.deepEqual(t.sent.map((s) => s[1]), [R1, R2]);
  assert.deepEqual(t.sent[0]![0].slice(0, 8), [0x08, 0, 0, 0, 0, 0, 42, 0]);
  assert.equal(dev.stats.txFloodGroup, 1);
  assert.equal(dev.stats.txDatagrams, 2);
  assert.equal(pool.outstanding, 0); // released once both copies were out
  dev.close();
});

Deno.test("vxlan: unknown unicast floods; after learning the MAC it goes to one remote", async () => {
  const { dev, t, pool, got } = await rig();
  dev.transmit(frame(pool, PEER));
  assert.equal(dev.stats.txFloodUnknown, 1);
  t.onDatagram!(datagram(42, [...OWN], PEER), { hostname: R2.hostname, port: 50000 });
  assert.equal(got.length, 1);
  assert.equal(dev.fdbStats.learned, 1);
  t.sent.length = 0;
  dev.transmit(frame(pool, PEER));
  await settle();
  // Learned from 192.0.2.2:50000 (a source port): sent to the flood-list entry at 4789.
  assert.deepEqual(t.sent.map((s) => s[1]), [R2]);
  assert.equal(dev.stats.txUnicast, 1);
  dev.close();
});

Deno.test("vxlan: a learned MAC from an address not on the flood list goes to port 4789", async () => {
  const { dev, t, pool } = await rig();
  t.onDatagram!(datagram(42, [...OWN], PEER), { hostname: "198.51.100.7", port: 61000 });
  dev.transmit(frame(pool, PEER));
  await settle();
  assert.deepEqual(t.sent.map((s) => s[1]), [{ hostname: "198.51.100.7", port: 4789 }]);
  dev.close();
});

Deno.test("vxlan: a learned entry ages out and the MAC is flooded again", async () => {
  const t = fakeTransport();
  const dev = await openVxlan({
    vni: 42,
    local: "192.0.2.9",
    remotes: [R1, R2],
    transport: t,
    fdbAging: 2_000_000,
  });
  let now = 0;
  const pool = new PacketPool();
  dev.attach({ pool, ifindex: 1, now: () => now, receive: (p) => p.release() });
  t.onDatagram!(datagram(42, [...dev.mac], PEER), R1);
  now = 3_000_000;
  dev.transmit(frame(pool, PEER, [...dev.mac]));
  assert.equal(dev.stats.txFloodUnknown, 1);
  assert.equal(dev.fdbStats.aged, 1);
  dev.close();
});

Deno.test("vxlan: static entries send unicast without learning", async () => {
  const t = fakeTransport();
  const dev = await openVxlan({
    vni: 7,
    local: "192.0.2.9",
    remotes: [R1],
    staticEntries: [{ mac: new Uint8Array(PEER), remote: "192.0.2.2:8472" }],
    transport: t,
  });
  const pool = new PacketPool();
  dev.attach({ pool, ifindex: 1, now: () => 0, receive: (p) => p.release() });
  dev.transmit(frame(pool, PEER, [...dev.mac]));
  await settle();
  assert.deepEqual(t.sent.map((s) => s[1]), [{ hostname: "192.0.2.2", port: 8472 }]);
  dev.close();
});

Deno.test("vxlan: wrong VNI, no I flag, truncated, short inner, looped frames are counted drops", async () => {
  const { dev, t, got } = await rig();
  const rx = t.onDatagram!;
  rx(datagram(43, [...OWN], PEER), R1);
  rx(datagram(42, [...OWN], PEER, 0x00), R1);
  rx(new Uint8Array(7), R1);
  rx(datagram(42, [...OWN], PEER).subarray(0, 8 + 13), R1);
  rx(datagram(42, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [...OWN]), R1);
  const big = new Uint8Array(8 + 1450 + 19);
  big.set(datagram(42, [...OWN], PEER).subarray(0, 22));
  rx(big, R1);
  assert.equal(got.length, 0);
  const s = dev.stats;
  assert.deepEqual(
    [s.rxWrongVni, s.rxNoIFlag, s.rxTruncated, s.rxInnerTruncated, s.rxLooped, s.rxTooBig],
    [1, 1, 1, 1, 1, 1],
  );
  assert.equal(dev.fdbStats.learned, 0);
  dev.close();
});

Deno.test("vxlan: with an empty flood list a broadcast is a counted drop", async () => {
  const { dev, t, pool } = await rig([]);
  dev.transmit(frame(pool, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  assert.equal(dev.stats.txNoRemote, 1);
  assert.equal(t.sent.length, 0);
  assert.equal(pool.outstanding, 0);
  dev.close();
});

Deno.test("vxlan: frames before attach and bad transmit lengths are counted drops", async () => {
  const t = fakeTransport();
  const dev = await openVxlan({ vni: 1, local: "192.0.2.9", remotes: [R1], transport: t });
  t.onDatagram!(datagram(1, [...dev.mac], PEER), R1);
  assert.equal(dev.stats.rxNotAttached, 1);
  const pool = new PacketPool();
  dev.transmit(pool.alloc(13));
  dev.transmit(pool.alloc(1450 + 19));
  assert.equal(dev.stats.txBadLength, 2);
  dev.close();
});

Deno.test("flowHash() is stable per flow and spreads flows over the source ports", () => {
  const f = new Uint8Array(14 + 20 + 8);
  f.set([0x08, 0x00], 12);
  f[14] = 0x45;
  f[14 + 9] = 6;
  const ports = new Set<number>();
  for (let p = 0; p < 64; p++) {
    f[34] = p; // TCP source port
    const h = flowHash(f, 0);
    assert.equal(flowHash(f, 0), h);
    ports.add(h % 8);
  }
  assert.equal(ports.size, 8);
});

Deno.test("openVxlan() validates every option before opening a socket", async () => {
  const bad: [Record<string, unknown>, ErrorConstructor][] = [
    [{ vni: -1, local: "127.0.0.1" }, RangeError],
    [{ vni: 0x1000000, local: "127.0.0.1" }, RangeError],
    [{ vni: 1, local: "nope" }, TypeError],
    [{ vni: 1, local: "127.0.0.1", remotes: ["10.0.0.1:0"] }, TypeError],
    [{ vni: 1, local: "127.0.0.1", remotes: ["[fd00::1]"] }, TypeError],
    [{ vni: 1, local: "127.0.0.1", mtu: 65486 }, RangeError],
    [{ vni: 1, local: "127.0.0.1", fdbSize: 0 }, RangeError],
    [{ vni: 1, local: "127.0.0.1", sourcePorts: 65 }, RangeError],
    [{ vni: 1, local: "127.0.0.1", mac: new Uint8Array([1, 2, 3, 4, 5, 6]) }, TypeError],
  ];
  for (const [o, type] of bad) {
    await assert.rejects(openVxlan(o as never), type, JSON.stringify(o));
  }
  assert.deepEqual(parseEndpoint("10.0.0.1:4790"), { hostname: "10.0.0.1", port: 4790 });
});

Deno.test("vxlan: two stacks ping each other over host UDP sockets on 127.0.0.1", async () => {
  const clock = new SystemClock();
  const a = await openVxlan({ vni: 5, local: "127.0.0.1:0" });
  const b = await openVxlan({ vni: 5, local: "127.0.0.1:0", remotes: [a.local] });
  a.addRemote(b.local);
  const sa = createStack({ clock, seed: 1 });
  const sb = createStack({ clock, seed: 2 });
  sa.addInterface({ driver: a, addresses: ["10.9.0.1/24"] });
  sb.addInterface({ driver: b, addresses: ["10.9.0.2/24"] });
  const ra = new RealTimeRunner(sa, { clock });
  const rb = new RealTimeRunner(sb, { clock });
  a.onBatch = ra.kick;
  b.onBatch = rb.kick;
  ra.start();
  rb.start();
  try {
    const reply = sb.ping("10.9.0.1", { timeout: 2000 });
    rb.kick();
    await reply;
    assert.ok(a.sourcePorts.every((p) => p >= 49152 && p <= 65535));
    assert.equal(a.fdbStats.learned, 1);
    assert.equal(b.fdbStats.learned, 1);
  } finally {
    ra.stop();
    rb.stop();
    sa.close();
    sb.close();
    await Promise.all([a.closed, b.closed]);
  }
});

Deno.test("vxlan: frames whose sends have not completed keep at most VXLAN_TX_PENDING_BYTES of buffers; past it they are dropped and counted", async () => {
  // Before: a socket that never completed its sends kept every frame given
  // to it (600 here, 1,228,800 bytes of buffers; no bound at all).
  const t = fakeTransport();
  const waiting: ((failed: boolean) => void)[] = [];
  t.send = (_data, _to, _flow, done) => void waiting.push(done);
  const dev = await openVxlan({
    vni: 7,
    local: "192.0.2.9",
    remotes: [R1],
    mac: OWN,
    transport: t,
  });
  const pool = new PacketPool();
  dev.attach({ pool, ifindex: 1, now: () => 0, receive: (p: PacketBuffer) => p.release() });
  for (let i = 0; i < 600; i++) dev.transmit(frame(pool, PEER));
  const fit = VXLAN_TX_PENDING_BYTES / SMALL_BUFFER_SIZE;
  assert.equal(waiting.length, fit);
  assert.equal(pool.outstanding, fit, "the frames kept are the ones being sent");
  assert.equal(dev.stats.txQueueFull, 600 - fit);
  for (const done of waiting.splice(0)) done(false);
  assert.equal(pool.outstanding, 0);
  dev.transmit(frame(pool, PEER)); // room again
  assert.equal(waiting.length, 1);
  waiting[0]!(false);
  assert.equal(dev.stats.txDatagrams, fit + 1);
  dev.close();
  await dev.closed;
});
