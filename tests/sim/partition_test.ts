/**
 * Parallel simulation (issue 19): a network split over Workers by
 * `runPartitioned` gives the same captures and counters, byte for byte, as
 * the same scenario in one thread; boundaries without delay are refused.
 */
import assert from "node:assert/strict";
import {
  type Faults,
  MILLISECOND,
  Partition,
  type PartitionedResult,
  runPartitioned,
  SECOND,
  VirtualNetwork,
} from "../../mod.ts";
import type { SimParams } from "./_partition_scenario.ts";

const MODULE = new URL("./_partition_scenario.ts", import.meta.url);
const LOSSY: Faults = { delay: 500, loss: 0.02, reorder: 0.02 };
const TRUNK: Faults = { delay: MILLISECOND, jitter: 200, loss: 0.03, reorder: 0.05 };

function params(over: Partial<SimParams>): SimParams {
  return {
    switches: 2,
    hostsPerSwitch: 4,
    crossEvery: 1,
    portFaults: LOSSY,
    trunkFaults: TRUNK,
    until: 5 * SECOND,
    hostSeed: 1,
    detail: true,
    ...over,
  };
}

function sum(r: PartitionedResult, counter: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(r.report)) {
    if (k.endsWith(".counters")) n += (v as Record<string, number>)[counter] ?? 0;
  }
  return n;
}

/** Runs `p` in one thread and in `partitions` Workers; asserts the same bytes. */
async function same(
  p: SimParams,
  seed: number,
  partitions: number,
  extra: {
    assign?: Record<string, number>;
    barrier?: boolean;
    ringBytes?: number;
    publishEveryStep?: boolean;
  } = {},
): Promise<[PartitionedResult, PartitionedResult]> {
  const base = { module: MODULE, seed, duration: 6 * SECOND, params: p };
  const one = await runPartitioned({ ...base, partitions: 1 });
  const many = await runPartitioned({ ...base, partitions, ...extra });
  assert.equal(many.partitions, partitions);
  assert.equal(
    new Set(Object.values(many.owners)).size,
    partitions,
    "every partition owns a switch",
  );
  // The captures and counters of every host, and every cable's and switch's counters.
  assert.deepEqual(Object.keys(many.report), Object.keys(one.report));
  for (const k of Object.keys(one.report)) {
    assert.deepEqual(many.report[k], one.report[k], `${k} differs (seed ${seed})`);
  }
  assert.deepEqual(many.links, one.links);
  assert.deepEqual(many.switches, one.switches);
  assert.ok(many.boundaryFrames > 0, "frames crossed between partitions");
  assert.ok(many.windows > 1);
  return [one, many];
}

Deno.test("partition: two switches over 2 Workers match one thread, byte for byte (seeds 1-3)", async () => {
  for (const seed of [1, 2, 3]) {
    const [one, many] = await same(params({ hostSeed: seed }), seed, 2);
    assert.equal(many.lookahead, 800, "trunk delay minus jitter");
    assert.ok((one.report.requests as number) >= 8, `requests ${one.report.requests}`);
    assert.ok(sum(one, "tcp.retrans_segs") > 0, "TCP retransmitted");
    const trunk = one.links["switch0.port0"]!; // the trunk is made before the hosts
    for (const dir of ["a->b", "b->a"] as const) {
      assert.ok(trunk[dir].delivered > 0, `trunk ${dir} carried frames`);
    }
    for (const p of many.timing) {
      // The start covers the Worker's start and the build; a sleep ends a wait.
      assert.ok(p.startMs >= p.buildMs && p.buildMs > 0, `start ${p.startMs}, build ${p.buildMs}`);
      assert.ok(p.sleeps <= p.windows, `sleeps ${p.sleeps} of ${p.windows} waits`);
      // Every wait has one cause and one length class; those that slept are the sleeps.
      const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
      assert.equal(total(Object.values(p.waitCauses!)), p.windows, "waits by cause");
      assert.equal(total(p.waitLengths!.spun) + total(p.waitLengths!.slept), p.windows);
      assert.equal(total(p.waitLengths!.slept), p.sleeps, "waits that slept");
    }
    const t = trunk["a->b"], u = trunk["b->a"];
    assert.ok(t.dropped.loss + u.dropped.loss > 0, "the trunk lost frames");
    assert.ok(t.reordered + u.reordered > 0, "the trunk reordered frames");
  }
});

Deno.test("partition: two Workers meeting at barriers (barrier: true) match one thread too", async () => {
  const [, many] = await same(params({ hostSeed: 9 }), 9, 2, { barrier: true });
  // One window per barrier, the same count in both partitions.
  assert.deepEqual(many.timing.map((t) => t.windows), [many.windows, many.windows]);
});

Deno.test("partition: two Workers publishing their bound every step match one thread too", async () => {
  const published = (r: PartitionedResult) => r.timing.reduce((n, t) => n + t.publications, 0);
  for (const seed of [10, 11]) {
    const [, every] = await same(params({ hostSeed: seed }), seed, 2, { publishEveryStep: true });
    if (seed !== 10) continue;
    // On demand, about one publication per wait; every step, about one per step (1.8× here).
    const [, asked] = await same(params({ hostSeed: seed }), seed, 2);
    assert.ok(
      published(every) > published(asked),
      `${published(every)} publications every step, ${published(asked)} on demand`,
    );
  }
});

Deno.test("partition: hosts running a host cable past the bound, switches taking frames late, match one thread", async () => {
  // 20 hosts a switch, every pair across the trunk, a request every 100 ms:
  // instants with only hosts' events often lie just past the other's bound.
  let ahead = 0, late = 0;
  for (const seed of [6, 7]) {
    const p = params({ hostSeed: seed, hostsPerSwitch: 20, interval: 100_000 });
    const [, many] = await same(p, seed, 2);
    for (const t of many.timing) ahead += t.aheadSteps!, late += t.lateFrames!;
  }
  assert.ok(ahead > 0, "hosts ran past the bound");
  assert.ok(late > 0, "a switch took a frame late");
});

Deno.test("partition: switches forgetting addresses mid-run (1 s ageing) match one thread", async () => {
  // Learned addresses age out between requests, so frames a switch would have
  // handed to a host are flooded across the trunk again: the two-partition
  // bound must not count on a table entry that will be gone when the frame arrives.
  const p = params({
    hostSeed: 10,
    crossEvery: 3,
    hostsPerSwitch: 6,
    ageing: SECOND,
    interval: 1_500_000,
  });
  const [one] = await same(p, 10, 2);
  assert.ok(one.switches.switch0!.flooded > 20, `flooded ${one.switches.switch0!.flooded}`);
});

Deno.test("partition: a ring of 4 KiB that wraps and fills (two partitions) matches one thread", async () => {
  // Clients starting together put many frames on the trunk at once: the
  // writer waits for room (taking in the other's frames meanwhile).
  const p = params({ hostsPerSwitch: 16, crossEvery: 1, together: true, hostSeed: 11 });
  const [, many] = await same(p, 11, 2, { ringBytes: 4096 });
  assert.ok(many.boundaryFrames > 100, `boundary frames ${many.boundaryFrames}`);
});

Deno.test("partition: one partition failing stops the other at once (two partitions)", async () => {
  const t0 = performance.now();
  await assert.rejects(
    runPartitioned({
      module: MODULE,
      partitions: 2,
      seed: 1,
      duration: 60 * SECOND,
      params: params({ failIn: 1 }),
    }),
    /Partition 1 failed: .*partition 1 fails on purpose/,
  );
  assert.ok(performance.now() - t0 < 60_000, "not left to the 120 s stall timeout");
});

Deno.test("partition: a star of 3 access switches over 3 Workers matches one thread (seeds 4, 5)", async () => {
  for (const seed of [4, 5]) {
    const p = params({ switches: 3, core: true, hostSeed: seed, crossEvery: 2 });
    const [one] = await same(p, seed, 3);
    assert.ok(sum(one, "tcp.retrans_segs") > 0, "TCP retransmitted");
  }
});

Deno.test("partition: clients starting together (ties at every instant) match one thread", async () => {
  // Constant delays and one start time: frames from both sides of the trunk
  // reach a switch at the same µs, so only the canonical order keeps them equal.
  const p = params({
    hostsPerSwitch: 8,
    crossEvery: 2,
    together: true,
    portFaults: { delay: 500, loss: 0.02 },
    trunkFaults: { delay: MILLISECOND, loss: 0.02 },
  });
  for (const seed of [7, 8]) await same({ ...p, hostSeed: seed }, seed, 2);
});

Deno.test("partition: a given assignment (core with one access switch) matches one thread", async () => {
  const p = params({ switches: 3, core: true, hostSeed: 6, crossEvery: 1 });
  const assign = { switch0: 0, switch1: 1, switch2: 1, switch3: 0 };
  const [, many] = await same(p, 6, 2, { assign });
  assert.deepEqual(many.owners, assign);
});

Deno.test("partition: frames crossing at the last instant the bound allows match one thread", async () => {
  // A datagram relayed by B reaches the other partition when that one has a
  // callback due (see _relay_scenario.ts): a bound one µs too late fails here.
  const base = {
    module: new URL("./_relay_scenario.ts", import.meta.url),
    seed: 1,
    duration: 2 * SECOND,
    params: { interval: 7 * MILLISECOND + 3, until: 1800 * MILLISECOND },
  };
  const one = await runPartitioned({ ...base, partitions: 1 });
  const many = await runPartitioned({ ...base, partitions: 2, assign: { switch0: 0, switch1: 1 } });
  assert.deepEqual(many.report, one.report);
  assert.deepEqual(many.links, one.links);
  assert.equal(one.report.sent, 257);
  assert.equal(one.report.received, 257, "every datagram relayed (no loss)");
  assert.equal(one.report.echoed, 257);
  assert.equal(one.report.ticks, 255 + 128);
  assert.ok(many.boundaryFrames >= 2 * 257);
});

Deno.test("partition: a boundary trunk without delay is refused", async () => {
  const zero = params({ trunkFaults: { loss: 0.01 } });
  await assert.rejects(
    runPartitioned({ module: MODULE, partitions: 2, duration: SECOND, params: zero }),
    /Partition \d failed: .*trunk switch0\.port0 joins switch0 \(partition 0\) and switch1 \(partition 1\) with no delay/,
  );
  // Jitter as large as the delay leaves no lookahead either.
  const net = new VirtualNetwork();
  const part = new Partition(net, { count: 2 });
  const [a, b] = [part.switch(), part.switch()];
  part.trunk(a, b, { faults: { delay: 100, jitter: 100 } });
  assert.throws(() => part.owns(a), /no delay \(a->b: delay 100 µs, jitter 100 µs\)/);
  // Within one partition a zero-delay trunk is fine.
  const one = new Partition(new VirtualNetwork());
  one.trunk(one.switch(), one.switch());
  assert.equal(one.lookahead, Infinity);
});

Deno.test("partition: automatic ownership balances ports and keeps neighbours together", () => {
  const net = new VirtualNetwork();
  const part = new Partition(net, { count: 2 });
  const s = [part.switch(), part.switch(), part.switch(), part.switch()];
  for (let i = 1; i < 4; i++) part.trunk(s[i - 1]!, s[i]!, { faults: { delay: 10 } });
  for (const sw of s) for (let i = 0; i < 6; i++) sw.port();
  assert.deepEqual(s.map((sw) => part.ownerOf(sw)), [0, 0, 1, 1]);
  assert.equal(part.owns(s[0]!), true);
  assert.throws(() => part.switch(), /decided by the first owns\(\)/);
});

Deno.test("partition: arguments are checked before any state", async () => {
  const net = new VirtualNetwork();
  assert.throws(() => new Partition(net, { count: 0 }), RangeError);
  assert.throws(() => new Partition(net, { count: 2, index: 2 }), RangeError);
  assert.throws(() => new Partition(net, { count: 1.5 }), TypeError);
  const part = new Partition(net, { count: 2, assign: { switch0: 0, switch1: 2 } });
  const a = part.switch(), b = part.switch();
  part.trunk(a, b, { faults: { delay: 5 } });
  assert.throws(() => part.owns(a), /assign puts switch1 in partition 2, expected 0 to 1/);
  const stranger = new VirtualNetwork().switch();
  assert.throws(() => new Partition(new VirtualNetwork()).trunk(stranger, stranger), /not made by/);
  await assert.rejects(
    runPartitioned({ module: MODULE, partitions: 0, duration: SECOND }),
    RangeError,
  );
  await assert.rejects(
    runPartitioned({ module: MODULE, partitions: 2, duration: 0.5 }),
    TypeError,
  );
  await assert.rejects(
    runPartitioned({ module: MODULE, partitions: 2, duration: SECOND, sampleEvery: -1 }),
    RangeError,
  );
});

Deno.test("partition: sampleEvery samples each partition's CPU, waits and heap per interval", async () => {
  const p = params({ hostSeed: 4, detail: false, until: 3 * SECOND });
  for (const partitions of [1, 2]) {
    const r = await runPartitioned({
      module: MODULE,
      partitions,
      seed: 4,
      duration: 3 * SECOND,
      params: p,
      sampleEvery: SECOND,
    });
    for (const t of r.timing) {
      const s = t.samples!;
      assert.equal(s.length, 3 * 5, "five numbers at 1, 2 and 3 simulated seconds");
      assert.deepEqual([s[0], s[5], s[10]], [1, 2, 3]);
      assert.ok(s[1]! <= s[6]! && s[6]! <= s[11]!, "the CPU only grows");
      assert.ok(s[12]! <= t.waitMs, "waited so far, at most all the waits");
      assert.ok(s[4]! > 0, "heap used");
    }
  }
});
