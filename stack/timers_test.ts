import assert from "node:assert/strict";
import fc from "npm:fast-check@3.23.2";
import { SeededRng } from "./rng.ts";
import { type Timer, TimerQueue } from "./timers.ts";

function fireAll(q: TimerQueue, now: number, limit?: number): number {
  return q.runDue(now, (t, at) => t.callback(at), limit);
}

function labelled(q: TimerQueue, fired: string[], ...names: string[]): Timer[] {
  return names.map((n) => q.create("test", () => fired.push(n)));
}

Deno.test("TimerQueue fires timers earliest first", () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const [a, b, c] = labelled(q, fired, "a", "b", "c");
  a!.arm(30);
  b!.arm(10);
  c!.arm(20);
  assert.equal(q.size, 3);
  assert.equal(q.nextDeadline(), 10);
  assert.equal(fireAll(q, 100), 3);
  assert.deepEqual(fired, ["b", "c", "a"]);
  assert.equal(q.size, 0);
  assert.equal(q.nextDeadline(), undefined);
});

Deno.test("TimerQueue fires timers with the same deadline in arming order", () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const [a, b, c] = labelled(q, fired, "a", "b", "c");
  a!.arm(5);
  b!.arm(5);
  c!.arm(5);
  a!.arm(5); // re-arming goes to the back of the line
  fireAll(q, 5);
  assert.deepEqual(fired, ["b", "c", "a"]);
});

Deno.test("TimerQueue fires nothing before its deadline and passes now to the callback", () => {
  const q = new TimerQueue();
  const seen: number[] = [];
  q.create("t", (now) => seen.push(now)).arm(50);
  assert.equal(fireAll(q, 49), 0);
  assert.deepEqual(seen, []);
  assert.equal(fireAll(q, 60), 1);
  assert.deepEqual(seen, [60]);
});

Deno.test("Timer.arm() re-arms an armed timer: it fires once, at the new deadline", () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const [a] = labelled(q, fired, "a");
  a!.arm(10);
  a!.arm(50);
  assert.equal(q.size, 1);
  assert.equal(q.nextDeadline(), 50);
  fireAll(q, 20);
  assert.deepEqual(fired, []);
  fireAll(q, 50);
  assert.deepEqual(fired, ["a"]);
  assert.equal(a!.armed, false);
});

Deno.test("Timer.cancel() disarms; cancelling twice or an unarmed timer is a no-op", () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  const [a, b] = labelled(q, fired, "a", "b");
  a!.arm(10);
  b!.arm(20);
  a!.cancel();
  a!.cancel();
  assert.equal(a!.armed, false);
  assert.equal(q.size, 1);
  assert.equal(q.nextDeadline(), 20);
  const idle = q.create("t", () => {});
  idle.cancel();
  fireAll(q, 100);
  assert.deepEqual(fired, ["b"]);
});

Deno.test("Timer.armEarlier() arms an idle timer and only ever moves a deadline earlier", () => {
  const q = new TimerQueue();
  const t = q.create("t", () => {});
  t.armEarlier(100);
  assert.equal(t.at, 100);
  t.armEarlier(200);
  assert.equal(t.at, 100);
  t.armEarlier(40);
  assert.equal(t.at, 40);
  assert.equal(q.nextDeadline(), 40);
  assert.equal(q.size, 1);
});

Deno.test("TimerQueue.runDue() fires at most limit timers", () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  for (const t of labelled(q, fired, "a", "b", "c", "d", "e")) t.arm(1);
  assert.equal(fireAll(q, 10, 2), 2);
  assert.deepEqual(fired, ["a", "b"]);
  assert.equal(q.size, 3);
  assert.equal(fireAll(q, 10), 3);
  assert.deepEqual(fired, ["a", "b", "c", "d", "e"]);
});

Deno.test("TimerQueue.runDue() fires a timer re-armed for now again, within the limit", () => {
  const q = new TimerQueue();
  let n = 0;
  const t = q.create("t", (now) => {
    if (++n < 1000) t.arm(now);
  });
  t.arm(0);
  assert.equal(fireAll(q, 0, 10), 10); // a self-re-arming timer cannot spin forever
  assert.equal(t.armed, true);
  const later = q.create("later", (now) => later.arm(now + 1));
  t.cancel();
  later.arm(0);
  assert.equal(fireAll(q, 0), 1); // re-armed in the future: not again this call
  assert.equal(q.nextDeadline(), 1);
});

Deno.test("Timer.arm() rejects NaN instead of corrupting the heap", () => {
  const q = new TimerQueue();
  const t = q.create("owner-x", () => {});
  assert.throws(() => t.arm(NaN), RangeError);
  assert.throws(() => t.arm(NaN), /owner-x/);
  assert.equal(t.armed, false);
  assert.equal(q.size, 0);
});

// ---- against a reference model ---------------------------------------------------------

/** The obvious implementation: a list scanned for the minimum (at, seq). */
class ModelQueue {
  readonly at: number[] = [];
  readonly seq: number[] = [];
  readonly armed: boolean[] = [];
  #seq = 0;
  add(): number {
    this.at.push(0);
    this.seq.push(0);
    this.armed.push(false);
    return this.at.length - 1;
  }
  arm(i: number, at: number): void {
    this.at[i] = at;
    this.seq[i] = this.#seq++;
    this.armed[i] = true;
  }
  armEarlier(i: number, at: number): void {
    if (!this.armed[i] || at < this.at[i]!) this.arm(i, at);
  }
  cancel(i: number): void {
    this.armed[i] = false;
  }
  get size(): number {
    return this.armed.filter(Boolean).length;
  }
  next(): number | undefined {
    let best = -1;
    for (let i = 0; i < this.at.length; i++) {
      if (!this.armed[i]) continue;
      if (
        best < 0 || this.at[i]! < this.at[best]! ||
        (this.at[i] === this.at[best] && this.seq[i]! < this.seq[best]!)
      ) best = i;
    }
    return best < 0 ? undefined : best;
  }
  runDue(now: number, fire: (i: number) => void, limit: number): number {
    let n = 0;
    while (n < limit) {
      const i = this.next();
      if (i === undefined || this.at[i]! > now) break;
      this.armed[i] = false;
      n++;
      fire(i);
    }
    return n;
  }
}

type Op =
  | { op: "arm"; i: number; at: number }
  | { op: "armEarlier"; i: number; at: number }
  | { op: "cancel"; i: number }
  | { op: "run"; advance: number; limit: number; react: number };

const N = 12;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("arm" as const), i: fc.nat(N - 1), at: fc.nat(30) }),
  fc.record({ op: fc.constant("armEarlier" as const), i: fc.nat(N - 1), at: fc.nat(30) }),
  fc.record({ op: fc.constant("cancel" as const), i: fc.nat(N - 1) }),
  fc.record({
    op: fc.constant("run" as const),
    advance: fc.nat(20),
    limit: fc.integer({ min: 1, max: 20 }),
    react: fc.nat(3),
  }),
);

Deno.test("TimerQueue matches a reference model under random arm/cancel/run (fast-check)", () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 20, maxLength: 200, size: "max" }), (ops) => {
      const q = new TimerQueue();
      const m = new ModelQueue();
      const firedQ: number[] = [];
      const firedM: number[] = [];
      let now = 0;
      let react = 0;
      // While firing, a callback may re-arm itself for now (fires again this
      // call), re-arm itself later, or cancel its neighbour.
      const reaction = (
        i: number,
        armQ: (j: number, at: number) => void,
        cancel: (j: number) => void,
      ) => {
        if (react === 1) armQ(i, now);
        else if (react === 2) armQ(i, now + 3);
        else if (react === 3) cancel((i + 1) % N);
      };
      const timers: Timer[] = [];
      for (let i = 0; i < N; i++) {
        m.add();
        timers.push(q.create(`t${i}`, () => {
          firedQ.push(i);
          reaction(i, (j, at) => timers[j]!.arm(at), (j) => timers[j]!.cancel());
        }));
      }
      for (const o of ops) {
        if (o.op === "arm") {
          timers[o.i]!.arm(now + o.at);
          m.arm(o.i, now + o.at);
        } else if (o.op === "armEarlier") {
          timers[o.i]!.armEarlier(now + o.at);
          m.armEarlier(o.i, now + o.at);
        } else if (o.op === "cancel") {
          timers[o.i]!.cancel();
          m.cancel(o.i);
        } else {
          now += o.advance;
          react = o.react;
          const nq = q.runDue(now, (t, at) => t.callback(at), o.limit);
          const nm = m.runDue(now, (i) => {
            firedM.push(i);
            reaction(i, (j, at) => m.arm(j, at), (j) => m.cancel(j));
          }, o.limit);
          react = 0;
          assert.equal(nq, nm);
        }
        assert.deepEqual(firedQ, firedM);
        assert.equal(q.size, m.size);
        const next = m.next();
        assert.equal(q.nextDeadline(), next === undefined ? undefined : m.at[next]);
        for (let i = 0; i < N; i++) assert.equal(timers[i]!.armed, m.armed[i]);
      }
    }),
    { seed: 0x5eed, numRuns: 300 },
  );
});

Deno.test("TimerQueue fires 200,000 randomly armed, re-armed and cancelled timers in model order", () => {
  const COUNT = 200_000;
  const rng = new SeededRng(20240601);
  const q = new TimerQueue();
  const m = new ModelQueue();
  const fired: number[] = [];
  const timers: Timer[] = [];
  for (let i = 0; i < COUNT; i++) {
    m.add();
    timers.push(q.create("bulk", () => fired.push(i)));
  }
  // Arm every timer, then re-arm, armEarlier or cancel random ones, in a
  // random order, with deadlines clustered so that many tie.
  for (let i = 0; i < COUNT; i++) {
    const at = rng.range(0, 50_000);
    timers[i]!.arm(at);
    m.arm(i, at);
  }
  for (let k = 0; k < COUNT; k++) {
    const i = rng.range(0, COUNT - 1);
    const at = rng.range(0, 50_000);
    switch (rng.range(0, 3)) {
      case 0:
        timers[i]!.arm(at);
        m.arm(i, at);
        break;
      case 1:
        timers[i]!.armEarlier(at);
        m.armEarlier(i, at);
        break;
      default:
        timers[i]!.cancel();
        m.cancel(i);
    }
  }
  assert.equal(q.size, m.size);
  // Expected order: every armed timer by (deadline, arming sequence).
  const expected = [...m.armed.keys()].filter((i) => m.armed[i]).sort((a, b) =>
    m.at[a]! - m.at[b]! || m.seq[a]! - m.seq[b]!
  );
  // Drain in steps, checking the heap's view at each one.
  for (let now = 0; now <= 50_000; now += 2_500) {
    fireAll(q, now);
    const due = expected.filter((i) => m.at[i]! <= now).length;
    assert.equal(fired.length, due);
    const next = expected[due];
    assert.equal(q.nextDeadline(), next === undefined ? undefined : m.at[next]);
  }
  assert.equal(q.size, 0);
  assert.deepEqual(fired, expected);
});
