import assert from "node:assert/strict";
import { ByteRing } from "./buffer.ts";
import { admitSynData, MEMORY_MIN_BUFFER, TcpMemory } from "./memory.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { ReceiveQueue } from "./rcv_queue.ts";

const LIMITS = { memoryLow: 1000_000, memoryPressure: 2000_000, memoryHigh: 3000_000 };

Deno.test("TcpMemory.mayGrow: free below low, nothing past high, the 4 KiB minimum always", () => {
  const mem = new TcpMemory(LIMITS, null);
  assert.ok(mem.mayGrow(0, 1000_000, 10));
  mem.charge(2900_000);
  assert.ok(!mem.mayGrow(4096, 131_072, 10)); // past high
  assert.ok(mem.mayGrow(0, MEMORY_MIN_BUFFER, 10)); // the minimum store
  assert.ok(mem.mayGrow(65_536, 65_536, 10)); // no growth
});

Deno.test("TcpMemory.mayGrow: under pressure, only within the fair share (high / connections)", () => {
  const mem = new TcpMemory(LIMITS, null);
  mem.charge(2100_000);
  assert.ok(mem.underPressure);
  assert.ok(mem.mayGrow(65_536, 262_144, 10)); // 262,144 · 10 ≤ 3,000,000
  assert.ok(!mem.mayGrow(65_536, 524_288, 10)); // past a tenth of high
  // Pressure lasts until the account is back at low.
  mem.charge(-600_000);
  assert.ok(mem.underPressure);
  assert.ok(!mem.mayGrow(65_536, 524_288, 10));
  mem.charge(-500_000);
  assert.ok(!mem.underPressure);
  assert.ok(mem.mayGrow(65_536, 524_288, 10));
});

Deno.test("TcpMemory.pressureTime: the virtual µs between entering pressure and falling back to low, over episodes, current at each change", () => {
  let now = 5_000;
  const mem = new TcpMemory(LIMITS, null, { clock: { now: () => now } });
  mem.charge(1500_000); // above low, below pressure: no pressure
  now = 10_000;
  mem.charge(600_000); // 2.1 MB: pressure from 10,000 µs
  assert.ok(mem.underPressure);
  assert.equal(mem.pressureTime, 0);
  now = 30_000;
  mem.notePressure(); // a window offered under pressure brings it up to date
  assert.equal(mem.pressureTime, 20_000);
  now = 45_000;
  mem.charge(-600_000); // 1.5 MB: still above low
  assert.equal(mem.pressureTime, 35_000);
  now = 70_000;
  mem.charge(-500_000); // back at low: pressure ends at 70,000 µs
  assert.ok(!mem.underPressure);
  assert.equal(mem.pressureTime, 60_000);
  now = 1_000_000;
  mem.notePressure(); // not under pressure: nothing
  mem.charge(100_000);
  assert.equal(mem.pressureTime, 60_000);
  mem.charge(1000_000); // 2.1 MB again at 1,000,000 µs
  now = 1_004_000;
  mem.charge(-1100_000);
  assert.equal(mem.pressureTime, 64_000); // both episodes
  // Without a clock it counts no time (pressure itself works as before).
  const bare = new TcpMemory(LIMITS, null);
  bare.charge(2100_000);
  bare.notePressure();
  bare.charge(-2100_000);
  assert.equal(bare.pressureTime, 0);
});

Deno.test("admitSynData: Fast Open SYN data only below memoryPressure, with no minimum store; refusals counted", () => {
  const mem = new TcpMemory(LIMITS, null);
  const refused = { value: 0 };
  // What admitSynData reads of a half-open child: its stack's account, buffer size and counter.
  const child = {
    core: { mem, cfg: { receiveBuffer: 262_144 }, c: { tfo_syn_data_mem_refused: refused } },
  } as unknown as TcpEndpoint;
  assert.ok(admitSynData(child, 1000)); // a 1 KiB store, far below pressure
  mem.charge(1999_000);
  assert.ok(admitSynData(child, 500)); // 512 B: 1,999,512, still at most memoryPressure
  assert.ok(!admitSynData(child, 1000)); // 1 KiB would cross it, though the minimum store would not
  assert.ok(mem.mayGrow(0, 1024, 10)); // (an established connection's 1 KiB is allowed)
  mem.charge(200_000); // under pressure
  mem.charge(-1200_000); // 999,000: pressure over
  assert.ok(!mem.underPressure);
  assert.ok(admitSynData(child, 1000));
  mem.charge(1101_000); // 2.1 MB: pressure
  mem.charge(-600_000); // 1.5 MB: still under pressure, though far below memoryPressure
  assert.ok(!admitSynData(child, 100));
  assert.equal(refused.value, 2);
});

Deno.test("admitSynData: data whose store lands the account exactly on memoryPressure is taken, and the receive queue charges exactly that store", () => {
  const mem = new TcpMemory(LIMITS, null);
  const refused = { value: 0 };
  const receiveBuffer = 262_144;
  const child = {
    core: { mem, cfg: { receiveBuffer }, c: { tfo_syn_data_mem_refused: refused } },
  } as unknown as TcpEndpoint;
  mem.charge(LIMITS.memoryPressure - 2048);
  assert.ok(admitSynData(child, 1025)); // a 2 KiB store: exactly memoryPressure
  // What fastOpenSyn does next: the child's receive queue takes the data.
  const q = new ReceiveQueue(receiveBuffer, mem);
  assert.equal(q.write(new Uint8Array(1025)), 1025);
  assert.equal(
    mem.allocated,
    LIMITS.memoryPressure,
    "charged exactly the store admitSynData counted",
  );
  assert.ok(!mem.underPressure, "at memoryPressure is not past it");
  assert.ok(!admitSynData(child, 1)); // the smallest store (512 B) would cross it
  assert.equal(refused.value, 1);
  q.dispose();
  assert.equal(mem.allocated, LIMITS.memoryPressure - 2048);
});

Deno.test("ByteRing charges its account exactly what it allocates: growth, shrink, release, dispose", () => {
  const mem = new TcpMemory(LIMITS, null);
  const ring = new ByteRing(1 << 20, mem);
  assert.equal(mem.allocated, ring.allocated);
  ring.write(new Uint8Array(100_000));
  assert.equal(ring.allocated, 131_072);
  assert.equal(mem.allocated, 131_072);
  assert.ok(ring.writeAt(200_000, new Uint8Array(1000))); // out of order, written ahead
  assert.equal(mem.allocated, ring.allocated);
  ring.dropAhead();
  ring.discard(95_000);
  assert.equal(ring.shrink(), 524_288 - 8192); // 5,000 bytes kept: an 8 KiB store
  assert.equal(mem.allocated, 8192);
  ring.discard(5000);
  assert.ok(ring.release());
  assert.equal(mem.allocated, 0);
  ring.write(new Uint8Array(10));
  assert.equal(mem.allocated, 512);
  ring.dispose();
  assert.equal(mem.allocated, 0);
  assert.equal(mem.peak, 524_288);
});
