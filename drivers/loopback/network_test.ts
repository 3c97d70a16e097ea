import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { MILLISECOND, SECOND } from "../../stack/clock.ts";
import type { Instant } from "../../stack/clock.ts";
import { SeededRng } from "../../stack/rng.ts";
import type { Faults } from "./faults.ts";
import { DeadlockError, VirtualTimeoutError } from "./errors.ts";
import { VirtualNetwork } from "./network.ts";
import type { NetworkNode } from "./network.ts";
import { EventHeap } from "./_heap.ts";
import { hex, TestEndpoint } from "./_test_node.ts";

const NASTY: Faults = {
  loss: 0.1,
  duplicate: 0.05,
  reorder: 0.1,
  delay: 1_000,
  jitter: 500,
  corrupt: 0.05,
  bandwidth: 100_000_000,
  queueLimit: { packets: 50 },
};

/** A faulty link; `a` sends 300 seeded frames at set times, `b` echoes. */
function scenario(seed: number): string[] {
  const net = new VirtualNetwork({ seed });
  const link = net.link({ faults: NASTY });
  const a = new TestEndpoint(net, link.a);
  const b = new TestEndpoint(net, link.b, { echo: true });
  const payloads = new SeededRng(1234); // the same frames whatever the seed
  for (let i = 0; i < 300; i++) {
    const f = new Uint8Array(payloads.range(14, 300));
    payloads.fill(f);
    a.sendAt(i * 200, f);
  }
  assert.ok(net.runUntilIdle());
  assert.equal(a.pool.outstanding + b.pool.outstanding + net.pool.outstanding, 0);
  return [
    ...b.received.map((r) => `b ${r.at} ${hex(r.bytes)}`),
    ...a.received.map((r) => `a ${r.at} ${hex(r.bytes)}`),
    JSON.stringify([link.stats("a->b"), link.stats("b->a")]),
  ];
}

Deno.test("same seed and scenario give byte-identical traffic; another seed differs", () => {
  const first = scenario(7);
  assert.deepEqual(scenario(7), first);
  assert.notDeepEqual(scenario(8), first);
  assert.ok(first.length > 400);
});

Deno.test("a link's faults are unaffected by later links and by net.rng", () => {
  function run(extra: boolean): string[] {
    const net = new VirtualNetwork({ seed: 3 });
    const link = net.link({ faults: { loss: 0.5, jitter: 100, delay: 100 } });
    if (extra) {
      net.rng.nextU32();
      const other = net.link({ faults: { loss: 0.5 } });
      const o = new TestEndpoint(net, other.a);
      for (let i = 0; i < 50; i++) o.sendAt(i, new Uint8Array(20));
    }
    const a = new TestEndpoint(net, link.a);
    const b = new TestEndpoint(net, link.b);
    for (let i = 0; i < 100; i++) {
      a.sendAt(i * 10, new Uint8Array([i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    }
    net.runUntilIdle();
    return b.received.map((r) => `${r.at}:${r.bytes[0]}`);
  }
  assert.deepEqual(run(true), run(false));
});

Deno.test("EventHeap pops in (at, seq) order", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
      const heap = new EventHeap<{ at: number; key: number; seq: number }>();
      times.forEach((at, seq) => heap.push({ at, key: 0, seq }));
      const out: [number, number][] = [];
      for (let e = heap.pop(); e !== undefined; e = heap.pop()) out.push([e.at, e.seq]);
      const expected = times.map((at, seq): [number, number] => [at, seq])
        .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      assert.deepEqual(out, expected);
    }),
  );
});

Deno.test("step delivers zero-delay exchanges within the same instant", () => {
  const net = new VirtualNetwork({ start: 100 });
  const link = net.link();
  const a = new TestEndpoint(net, link.a, { echo: true });
  const b = new TestEndpoint(net, link.b, { echo: true });
  let bounces = 0;
  // Two echoers bounce one frame until a callback cuts the link.
  net.addNode({
    pollAt: () => bounces < 10 ? 100 : undefined,
    poll() {
      bounces = a.received.length + b.received.length;
      if (bounces >= 10) link.partition();
    },
  });
  a.sendNow(new Uint8Array(20));
  net.step();
  assert.equal(net.now(), 100);
  assert.ok(a.received.length + b.received.length >= 10);
  assert.ok(a.received.every((r) => r.at === 100));
});

Deno.test("step runs callbacks due at one instant in the order made, then frames", () => {
  const net = new VirtualNetwork();
  const log: string[] = [];
  const link = net.link({ faults: { delay: 10 } });
  link.b.attach({
    pool: net.pool,
    ifindex: 0,
    now: () => net.now(),
    receive(pkt) {
      log.push(`frame${pkt.data[0]}`);
      pkt.release();
    },
  });
  net.at(10, () => log.push("cb1"));
  const f = net.pool.alloc(20);
  f.data[0] = 1;
  link.a.transmit(f);
  net.at(10, () => log.push("cb2"));
  net.at(5, () => log.push("cb0"));
  net.at(-1, () => log.push("past"));
  net.runFor(10);
  // Callbacks first, whoever was scheduled first: the order must not depend
  // on which partition of a split network inserted an entry (partition.ts).
  assert.deepEqual(log, ["past", "cb0", "cb1", "cb2", "frame1"]);
});

Deno.test("step polls nodes whose pollAt is due, in the order they were added", () => {
  const net = new VirtualNetwork({ start: 50 });
  const log: string[] = [];
  const node = (name: string, at: Instant | undefined): NetworkNode => ({
    pollAt: () => log.includes(name) ? undefined : at,
    poll: (now) => void log.push(name, String(now)),
  });
  net.addNode(node("x", 50));
  net.addNode(node("y", 10)); // a past deadline is due now
  const z = net.addNode(node("z", 51));
  net.step();
  assert.deepEqual(log, ["x", "50", "y", "50"]);
  assert.equal(net.nextDeadline(), 51);
  assert.ok(net.removeNode(z));
  assert.ok(!net.removeNode(z));
  assert.equal(net.nextDeadline(), undefined);
});

Deno.test("step throws on a livelocked node", () => {
  const net = new VirtualNetwork({ maxWorkPerStep: 1_000 });
  net.addNode({ pollAt: () => 0, poll() {} });
  assert.throws(() => net.step(), /still busy after 1000/);
});

Deno.test("step refuses to re-enter itself", () => {
  const net = new VirtualNetwork();
  let caught: unknown;
  net.at(0, () => {
    try {
      net.step();
    } catch (e) {
      caught = e;
    }
  });
  net.step();
  assert.match(String(caught), /already running/);
});

Deno.test("runFor jumps deadline to deadline and ends at exactly now + duration", () => {
  const net = new VirtualNetwork({ start: 1_000 });
  const seen: Instant[] = [];
  let next = 1_000 + 333;
  net.addNode({
    pollAt: () => next,
    poll(now) {
      seen.push(now);
      next += 333;
    },
  });
  net.runFor(1_000);
  assert.equal(net.now(), 2_000);
  assert.deepEqual(seen, [1_333, 1_666, 1_999]);
  net.at(2_500, () => seen.push(-1));
  net.runFor(500); // due exactly at the end: done
  assert.deepEqual(seen.slice(3), [2_332, -1]);
  assert.equal(net.now(), 2_500);
  assert.throws(() => net.runFor(-1), RangeError);
});

Deno.test("runFor rounds fractional deadlines up", () => {
  const net = new VirtualNetwork();
  let polled = 0;
  net.addNode({ pollAt: () => polled === 0 ? 10.5 : undefined, poll: () => void polled++ });
  net.runFor(100);
  assert.equal(polled, 1);
});

Deno.test("runUntilIdle reports idleness and honours its limits", () => {
  const net = new VirtualNetwork();
  net.at(5 * SECOND, () => {});
  assert.ok(net.runUntilIdle());
  assert.equal(net.now(), 5 * SECOND);
  const forever: NetworkNode = { pollAt: (now) => now + SECOND, poll() {} };
  net.addNode(forever);
  assert.ok(!net.runUntilIdle({ maxTime: 10 * SECOND }));
  assert.equal(net.now(), 15 * SECOND);
  assert.ok(!net.runUntilIdle({ maxSteps: 3 }));
  assert.equal(net.now(), 18 * SECOND);
});

Deno.test("run() resolves on a frame 5 s of virtual time away, fast in real time", async () => {
  const net = new VirtualNetwork();
  const link = net.link({ faults: { delay: 5 * SECOND } });
  let arrived: (at: Instant) => void = () => {};
  link.b.attach({
    pool: net.pool,
    ifindex: 1,
    now: () => net.now(),
    receive(pkt) {
      pkt.release();
      arrived(net.now());
    },
  });
  const t0 = performance.now();
  const at = await net.run(async () => {
    const p = new Promise<Instant>((r) => arrived = r);
    link.a.transmit(net.pool.alloc(60));
    return await p;
  });
  assert.equal(at, 5 * SECOND);
  // Half the virtual delay: proves no real waiting, even on a loaded machine.
  assert.ok(performance.now() - t0 < 2_500);
});

// Virtual time must not wait for real time. The bound is a third of the
// simulated minute, so a loaded CI machine cannot fail it; how fast a run is
// belongs to the benchmarks, not to a timed test.
Deno.test("run() simulates a busy minute without waiting for a real one", async () => {
  const net = new VirtualNetwork({ seed: 5 });
  const link = net.link({ faults: { delay: 2 * MILLISECOND, loss: 0.01 } });
  const a = new TestEndpoint(net, link.a);
  new TestEndpoint(net, link.b, { echo: true });
  for (let t = 0; t < 60 * SECOND; t += 10 * MILLISECOND) a.sendAt(t, new Uint8Array(100));
  const t0 = performance.now();
  const echoed = await net.run(async () => {
    while (net.now() < 60 * SECOND) {
      await new Promise<void>((r) => net.at(net.now() + SECOND, r)); // a virtual sleep
    }
    return a.received.length;
  });
  const elapsed = performance.now() - t0;
  assert.equal(net.now(), 60 * SECOND);
  assert.ok(echoed > 5_800, `echoed ${echoed}`);
  assert.ok(elapsed < 20_000, `took ${elapsed} ms of real time for 60 s of virtual time`);
});

Deno.test("run() returns values and propagates rejections", async () => {
  const net = new VirtualNetwork();
  assert.equal(await net.run(() => Promise.resolve(42)), 42);
  await assert.rejects(net.run(() => Promise.reject(new TypeError("boom"))), TypeError);
  await assert.rejects(
    net.run(() => {
      throw new RangeError("sync");
    }),
    RangeError,
  );
});

Deno.test("run() detects a deadlocked scenario", async () => {
  const net = new VirtualNetwork();
  net.at(SECOND, () => {});
  const err = await net.run(() => new Promise(() => {})).catch((e) => e);
  assert.ok(err instanceof DeadlockError);
  assert.match(err.message, /deadlocked at 1000000 µs/);
  assert.equal(err.code, "ERR_VIRTUAL_DEADLOCK");
});

Deno.test("run() times out on virtual time", async () => {
  const net = new VirtualNetwork({ start: SECOND });
  net.addNode({ pollAt: (now) => now + 300 * MILLISECOND, poll() {} });
  const t0 = performance.now();
  const err = await net.run(() => new Promise(() => {}), { timeout: 60 * SECOND }).catch((e) => e);
  assert.ok(err instanceof VirtualTimeoutError);
  assert.match(err.message, /timed out after 60000000 µs/);
  assert.equal(net.now(), 61 * SECOND);
  assert.ok(performance.now() - t0 < 20_000); // a third of the virtual wait: none was real
});

Deno.test("run() refuses to run twice at once", async () => {
  const net = new VirtualNetwork();
  net.at(SECOND, () => {});
  const first = net.run(() => new Promise<void>((r) => net.at(SECOND, r)));
  await assert.rejects(net.run(() => Promise.resolve()), /another run\(\)/);
  await first;
});

Deno.test("close() releases frames in flight", () => {
  const net = new VirtualNetwork();
  const link = net.link({ faults: { delay: SECOND, duplicate: 1 } });
  const a = new TestEndpoint(net, link.a);
  const b = new TestEndpoint(net, link.b);
  for (let i = 0; i < 10; i++) a.sendNow(new Uint8Array(100));
  net.at(2 * SECOND, () => {});
  assert.equal(net.pending, 21);
  assert.equal(a.pool.outstanding, 20);
  net.close();
  assert.equal(net.pending, 0);
  assert.equal(a.pool.outstanding + b.pool.outstanding, 0);
  assert.equal(link.stats("a->b").dropped.detached, 20);
  assert.ok(link.a.closed && link.b.closed);
});
