/**
 * run()'s turns as setImmediate callbacks (3baaae4) and the round's reused
 * due array (1a3eeae): a throw inside a turn rejects run() and stops the
 * turns; run() refuses a second or nested run and works again afterwards;
 * close() during a run ends it; the same scenario gives the same log.
 */
import assert from "node:assert/strict";
import { MILLISECOND, SECOND } from "../../stack/clock.ts";
import type { Instant } from "../../stack/clock.ts";
import { DeadlockError } from "./errors.ts";
import { VirtualNetwork } from "./network.ts";
import type { NetworkNode } from "./network.ts";
import { hex, TestEndpoint } from "./_test_node.ts";

/** Resolves after `n` macrotasks (each after every microtask). */
async function macrotasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A node due every `period` µs, counting its polls. */
function ticker(period: number): NetworkNode & { polls: number } {
  let due = 0;
  const node = {
    polls: 0,
    pollAt: () => due,
    poll(now: Instant) {
      node.polls++;
      due = now + period;
    },
  };
  return node;
}

Deno.test("run(): a throw in a later turn rejects it, and no turn runs after", async () => {
  const net = new VirtualNetwork();
  const tick = net.addNode(ticker(MILLISECOND));
  net.at(5 * MILLISECOND, () => {
    throw new TypeError("callback failed");
  });
  const err = await net.run(() => new Promise(() => {})).catch((e) => e);
  assert.ok(err instanceof TypeError, String(err));
  assert.equal(net.now(), 5 * MILLISECOND);
  const polls = tick.polls;
  await macrotasks(20); // a dangling setImmediate would keep stepping the ticker
  assert.equal(tick.polls, polls);
  assert.equal(net.now(), 5 * MILLISECOND);
  // The network is free again: another run() works from where it stopped.
  const at = await net.run(() =>
    new Promise<Instant>((r) => net.at(8 * MILLISECOND, () => r(net.now())))
  );
  assert.equal(at, 8 * MILLISECOND);
});

Deno.test("run(): a throw in the first step (before any turn) rejects it and frees the network", async () => {
  const net = new VirtualNetwork();
  net.addNode({
    pollAt: () => 0,
    poll() {
      throw new RangeError("poll failed");
    },
  });
  let started = false;
  await assert.rejects(
    net.run(() => {
      started = true;
      return new Promise(() => {});
    }),
    RangeError,
  );
  assert.ok(started); // fn was already queued as a microtask: it ran once
  await macrotasks(5);
  await assert.rejects(net.run(() => Promise.resolve(1)), RangeError); // still failing: stepped again
});

Deno.test("run(): the livelock error of a turn rejects it", async () => {
  const net = new VirtualNetwork({ maxWorkPerStep: 100 });
  let spin = false;
  net.addNode({ pollAt: (now) => spin ? now : undefined, poll() {} });
  net.at(SECOND, () => spin = true);
  const err = await net.run(() => new Promise(() => {})).catch((e) => e);
  assert.match(String(err), /still busy after 100/);
  assert.equal(net.now(), SECOND);
});

Deno.test("run(): nested in its own fn it is refused; the outer run goes on", async () => {
  const net = new VirtualNetwork();
  const got = await net.run(async () => {
    const inner = await net.run(() => Promise.resolve("inner")).catch((e) => e);
    await new Promise<void>((r) => net.at(2 * SECOND, r));
    return inner;
  });
  assert.match(String(got), /another run\(\) is in progress/);
  assert.equal(net.now(), 2 * SECOND);
  assert.equal(await net.run(() => Promise.resolve("again")), "again");
});

Deno.test("run(): two networks run at once, each on its own clock", async () => {
  const a = new VirtualNetwork(), b = new VirtualNetwork();
  const at = (net: VirtualNetwork, t: Instant) =>
    net.run(() => new Promise<Instant>((r) => net.at(t, () => r(net.now()))));
  assert.deepEqual(await Promise.all([at(a, 3 * SECOND), at(b, 7 * SECOND)]), [
    3 * SECOND,
    7 * SECOND,
  ]);
});

Deno.test("run(): close() during a run drops what fn waits for and ends in a deadlock error", async () => {
  const net = new VirtualNetwork();
  const link = net.link({ faults: { delay: SECOND } });
  const a = new TestEndpoint(net, link.a);
  const b = new TestEndpoint(net, link.b);
  const err = await net.run(async () => {
    a.sendNow(new Uint8Array(60));
    await new Promise<void>((r) => net.at(SECOND / 2, r));
    net.close(); // the frame in flight is dropped
    await new Promise(() => {}); // waits for it forever
  }).catch((e) => e);
  assert.ok(err instanceof DeadlockError, String(err));
  assert.equal(b.received.length, 0);
  assert.equal(a.pool.outstanding + b.pool.outstanding + net.pool.outstanding, 0);
});

/**
 * Async code woken by callbacks due at one instant sends frames from
 * microtasks, with nodes due at the same instant: the log of who ran and
 * what arrived, in order.
 */
async function sameInstantScenario(seed: number): Promise<string[]> {
  const net = new VirtualNetwork({ seed });
  const link = net.link({ faults: { jitter: 300, reorder: 0.2, duplicate: 0.1 } });
  const a = new TestEndpoint(net, link.a);
  new TestEndpoint(net, link.b, { echo: true }); // b echoes every frame back to a
  const log: string[] = [];
  const ticks = [ticker(250), ticker(500), ticker(250)];
  for (const [i, t] of ticks.entries()) {
    const poll = t.poll.bind(t);
    t.poll = (now) => {
      log.push(`tick${i} ${now}`);
      poll(now);
    };
    net.addNode(t);
  }
  const wake = (t: Instant) => new Promise<void>((r) => net.at(t, r));
  const worker = async (id: number) => {
    for (let round = 0; round < 20; round++) {
      await wake(round * 500); // every worker wakes at the same instants
      log.push(`w${id} ${net.now()}`);
      a.sendNow(new Uint8Array([id, round, ...new Array(58).fill(round)]));
    }
  };
  await net.run(() => Promise.all([worker(1), worker(2), worker(3)]), { timeout: 60 * SECOND });
  return [...log, ...a.received.map((r) => `a ${r.at} ${hex(r.bytes)}`)];
}

Deno.test("run(): same seed, same log with callbacks, nodes and microtask sends at one instant", async () => {
  const first = await sameInstantScenario(7);
  assert.ok(first.length > 60);
  assert.deepEqual(await sameInstantScenario(7), first);
  assert.notDeepEqual(await sameInstantScenario(8), first);
});

Deno.test("step: a poll that throws mid-round leaves no node of that round in the next", () => {
  const net = new VirtualNetwork();
  const log: string[] = [];
  let fail = true;
  const node = (name: string, due: () => Instant | undefined): NetworkNode => ({
    pollAt: due,
    poll(now) {
      log.push(`${name} ${now}`);
      if (name === "x" && fail) {
        fail = false;
        throw new Error("x failed");
      }
    },
  });
  let yDone = false;
  net.addNode(node("x", () => fail ? 0 : undefined));
  net.addNode({
    ...node("y", () => yDone ? undefined : 0),
    poll: (now) => void (yDone = true, log.push(`y ${now}`)),
  });
  assert.throws(() => net.step(), /x failed/);
  assert.deepEqual(log, ["x 0"]);
  net.step(); // y once, x not again: nothing of the failed round is replayed
  assert.deepEqual(log, ["x 0", "y 0"]);
  net.step();
  assert.deepEqual(log, ["x 0", "y 0"]);
});

Deno.test("step: each round polls a due node once, in index order, round after round", () => {
  const net = new VirtualNetwork();
  const log: string[] = [];
  // `name` wants `want(now)` polls at each instant up to 3 µs.
  const node = (name: string, want: (now: Instant) => number): NetworkNode => {
    let at = -1, done = 0;
    return {
      pollAt(now) {
        if (now > 3) return undefined;
        if (at !== now) return now; // not polled yet at this instant
        return done < want(now) ? now : now + 1;
      },
      poll(now) {
        if (at !== now) at = now, done = 0;
        done++;
        log.push(`${name}${now}`);
      },
    };
  };
  net.addNode(node("x", (now) => now === 0 ? 1 : 2));
  net.addNode(node("y", () => 1));
  assert.ok(net.runUntilIdle());
  // Two rounds at each instant after the first: x and y, then x alone.
  assert.deepEqual(log, ["x0", "y0", "x1", "y1", "x1", "x2", "y2", "x2", "x3", "y3", "x3"]);
});

Deno.test("step: a poll that throws mid-round leaves the round's watched nodes scheduled (asked again next step)", () => {
  const net = new VirtualNetwork();
  const log: string[] = [];
  let fail = true;
  // Watched nodes are asked their pollAt only when they say it changed; the
  // round takes them off the heap, so one the throw skipped would never be
  // polled again unless marked.
  const watched = (name: string): NetworkNode => {
    let due: Instant | undefined = 0;
    return {
      pollAt: () => due,
      watchPollAt: () => {},
      poll(now) {
        log.push(`${name} ${now}`);
        if (name === "x" && fail) {
          fail = false;
          throw new Error("x failed");
        }
        due = undefined;
      },
    };
  };
  net.addNode(watched("x"));
  net.addNode(watched("y"));
  assert.throws(() => net.step(), /x failed/);
  assert.deepEqual(log, ["x 0"]);
  net.step(); // x is still due (its poll threw before it was done), and y was never polled
  assert.deepEqual(log, ["x 0", "x 0", "y 0"]);
  assert.ok(net.runUntilIdle());
  assert.deepEqual(log, ["x 0", "x 0", "y 0"]);
});
