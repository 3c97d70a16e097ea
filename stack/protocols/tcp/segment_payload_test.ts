import assert from "node:assert/strict";
import { PacketBuffer } from "../../packet.ts";
import { PacketPool } from "../../packet_pool.ts";
import { Segment } from "./core.ts";

Deno.test("tcp Segment.payload() keeps its packet's view while buffer and window repeat", () => {
  const seg = new Segment();
  const a = new Uint8Array(100).map((_, i) => i);
  const pa = PacketBuffer.wrap(a);
  seg.buf = a;
  seg.pkt = pa;
  seg.dataAt = 40;
  const v = seg.payload(20);
  assert.deepEqual([...v], Array.from({ length: 20 }, (_, i) => 40 + i));
  assert.equal(seg.payload(20), v); // same buffer, offset and length: no new view
  a[40] = 200; // the view reads the buffer's current bytes
  assert.equal(seg.payload(20)[0], 200);
  // Any change of length, offset or buffer makes a new, correct view.
  assert.deepEqual([...seg.payload(3)], [200, 41, 42]);
  seg.dataAt = 41;
  assert.deepEqual([...seg.payload(3)], [41, 42, 43]);
  const b = new Uint8Array(100).fill(7);
  seg.buf = b;
  seg.pkt = PacketBuffer.wrap(b);
  assert.deepEqual([...seg.payload(3)], [7, 7, 7]);
  seg.buf = a.subarray(0); // a buffer that is not its packet's: a view of it, not the packet's
  seg.pkt = pa;
  assert.deepEqual([...seg.payload(3)], [41, 42, 43]);
  seg.pkt = null;
  assert.deepEqual([...seg.payload(3)], [41, 42, 43]);
  assert.equal(seg.payload(0).length, 0);
});

Deno.test("tcp Segment.payload(): each pooled packet keeps its own view, so buffers taking turns reuse theirs", () => {
  const pool = new PacketPool();
  const pkts = [pool.alloc(1500), pool.alloc(1500), pool.alloc(1500)];
  const seg = new Segment();
  const first = pkts.map((p) => {
    seg.buf = p.buf;
    seg.pkt = p;
    seg.dataAt = p.start + 52;
    return seg.payload(1448);
  });
  pkts.forEach((p, i) => {
    seg.buf = p.buf;
    seg.pkt = p;
    seg.dataAt = p.start + 52;
    assert.equal(seg.payload(1448), first[i], `packet ${i}'s view came back`);
    assert.equal(first[i]!.byteOffset, p.buf.byteOffset + p.start + 52);
    p.release();
  });
});
