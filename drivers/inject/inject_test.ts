import assert from "node:assert/strict";
import { InjectDriver } from "./mod.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { createStack, LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../mod.ts";

function port(pool: PacketPool, got: number[]) {
  return {
    pool,
    ifindex: 0,
    now: () => 0,
    receive: (p: { length: number; release(): void }) => {
      got.push(p.length);
      p.release();
    },
  };
}

Deno.test("InjectDriver.inject() hands a pooled copy to the stack", () => {
  const pool = new PacketPool();
  const got: number[] = [];
  const io = new InjectDriver({ linkType: LINKTYPE_RAW });
  io.attach(port(pool, got));
  const frame = new Uint8Array([1, 2, 3]);
  io.inject(frame);
  frame[0] = 9; // the stack's copy is unaffected
  assert.deepEqual(got, [3]);
  assert.equal(pool.outstanding, 0);
});

Deno.test("InjectDriver.take() returns sent frames in order and bounds its queue", () => {
  const pool = new PacketPool();
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, queueLimit: 2 });
  for (const b of [1, 2, 3]) io.transmit(pool.copyOf(new Uint8Array([b])));
  assert.deepEqual(io.take().map((f) => f[0]), [2, 3]);
  assert.equal(io.dropped, 1);
  assert.deepEqual(io.take(), []);
  assert.equal(pool.outstanding, 0);
});

Deno.test("InjectDriver.take()'s queue is bounded in bytes too: 1,024 super-segments kept 64 MiB", () => {
  // Before: queueLimit counted frames only, so 1,024 frames of 64 KiB (a
  // TSO link's) were all kept, and a queueLimit of NaN or Infinity kept
  // every frame.
  const pool = new PacketPool();
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, mtu: 1500, tsoMaxSize: 65535 });
  for (let i = 0; i < 1024; i++) {
    const p = pool.alloc(65_000);
    p.data[0] = i & 0xff;
    io.transmit(p);
  }
  const kept = io.take();
  const bytes = kept.reduce((n, f) => n + f.buffer.byteLength, 0);
  assert.ok(bytes <= 4 << 20, `the queue kept ${bytes} bytes`);
  assert.equal(kept.length, 64);
  assert.equal(io.dropped, 1024 - 64);
  assert.equal(kept.at(-1)![0], 1023 & 0xff, "the newest are kept");
  // A frame larger than the queue is dropped, not kept alone past its bound.
  const small = new InjectDriver({ linkType: LINKTYPE_RAW, queueBytes: 100 });
  small.transmit(pool.copyOf(new Uint8Array(60)));
  small.transmit(pool.copyOf(new Uint8Array(200)));
  small.transmit(pool.copyOf(new Uint8Array(60)));
  assert.deepEqual(small.take().map((f) => f.length), [60]);
  assert.equal(small.dropped, 2);
  assert.equal(pool.outstanding, 0);
  for (const bad of [NaN, Infinity, 0, -1, 1.5]) {
    assert.throws(() => new InjectDriver({ linkType: 101, queueLimit: bad }), RangeError);
    assert.throws(() => new InjectDriver({ linkType: 101, queueBytes: bad }), RangeError);
  }
});

Deno.test("InjectDriver onFrame sees each frame and nothing is queued", () => {
  const pool = new PacketPool();
  const seen: number[] = [];
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, onFrame: (f) => seen.push(f.length) });
  io.transmit(pool.copyOf(new Uint8Array(5)));
  assert.deepEqual(seen, [5]);
  assert.deepEqual(io.take(), []);
  assert.equal(pool.outstanding, 0);
});

Deno.test("InjectDriver refuses to inject before attach or after close", () => {
  const io = new InjectDriver({
    linkType: LINKTYPE_ETHERNET,
    mac: new Uint8Array([2, 0, 0, 0, 0, 9]),
  });
  assert.throws(() => io.inject(new Uint8Array(60)), /not attached/);
  io.attach(port(new PacketPool(), []));
  io.close();
  assert.throws(() => io.inject(new Uint8Array(60)), Deno.errors.BadResource);
  assert.throws(() => new InjectDriver({ linkType: 1, mac: new Uint8Array(5) }), RangeError);
});

Deno.test("InjectDriver carries an Ethernet stack's ARP reply out", () => {
  const mac = new Uint8Array([2, 0, 0, 0, 0, 2]);
  const io = new InjectDriver({ linkType: LINKTYPE_ETHERNET, mac });
  const stack = createStack({ seed: 1 });
  stack.addInterface({ name: "eth0", driver: io, addresses: ["10.0.0.2/24"] });
  io.take(); // the gratuitous ARP
  const req = new Uint8Array(42);
  req.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06]);
  req.set(
    [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2],
    14,
  );
  io.inject(req);
  const [reply] = io.take();
  assert.ok(reply);
  assert.deepEqual([...reply.subarray(0, 6)], [2, 0, 0, 0, 0, 1]);
  assert.equal(reply[21], 2); // ARP reply
  stack.close();
});

Deno.test("InjectDriver tsoMaxSize: offered to the interface when set, checked before use", () => {
  assert.equal(new InjectDriver({ linkType: LINKTYPE_RAW }).tsoMaxSize, undefined);
  assert.equal(new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 0 }).tsoMaxSize, undefined);
  const io = new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65535 });
  const stack = createStack({ seed: 1 });
  const iface = stack.addInterface({ name: "tun0", driver: io, addresses: ["10.0.0.2/24"] });
  assert.equal(iface.tsoMaxSize, 65535);
  stack.close();
  assert.throws(() => new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 1.5 }), TypeError);
  assert.throws(() => new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 1400 }), RangeError);
  assert.throws(() => new InjectDriver({ linkType: LINKTYPE_RAW, tsoMaxSize: 65536 }), RangeError);
});
