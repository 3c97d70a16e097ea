import assert from "node:assert/strict";
import { type Pollable, RealTimeRunner } from "./runner.ts";
import { ManualClock, SystemClock } from "../../stack/clock.ts";

/** Waits (bounded: 2 s) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(cond(), "condition not reached within 2 s");
}

Deno.test("RealTimeRunner polls once the deadline has passed, not before", async () => {
  const clock = new SystemClock();
  const due = clock.now() + 3_000;
  const seen: number[] = [];
  let done = false;
  const node: Pollable = {
    pollAt: () => done ? undefined : due,
    poll(now) {
      if (now >= due) {
        seen.push(now);
        done = true;
      }
    },
  };
  const runner = new RealTimeRunner(node, { clock });
  runner.start();
  await until(() => done);
  runner.stop();
  assert.equal(seen.length, 1);
  assert.ok(seen[0]! >= due);
});

Deno.test("RealTimeRunner.kick() polls at once and takes a new earlier deadline", async () => {
  const clock = new SystemClock();
  let deadline: number | undefined = undefined; // idle: the runner sleeps maxSleep
  let fired = false;
  let polls = 0;
  const node: Pollable = {
    pollAt: () => deadline,
    poll(now) {
      polls++;
      if (deadline !== undefined && now >= deadline) {
        fired = true;
        deadline = undefined;
      }
    },
  };
  const runner = new RealTimeRunner(node, { clock, maxSleep: 60_000_000 });
  runner.start();
  assert.equal(polls, 1);
  deadline = clock.now() + 2_000; // armed between batches, like a user's ping
  runner.kick();
  assert.equal(polls, 2);
  await until(() => fired);
  runner.stop();
});

Deno.test("RealTimeRunner wakes every maxSleep when idle", async () => {
  const clock = new SystemClock();
  let polls = 0;
  const runner = new RealTimeRunner({ pollAt: () => undefined, poll: () => void polls++ }, {
    clock,
    maxSleep: 1_000,
  });
  runner.start();
  await until(() => runner.wakeups >= 3);
  runner.stop();
  assert.ok(polls >= 4);
});

Deno.test("RealTimeRunner counts a throwing poll, reports it, and keeps running", async () => {
  const clock = new SystemClock();
  const errors: unknown[] = [];
  let calls = 0;
  const node: Pollable = {
    pollAt: () => undefined,
    poll() {
      if (++calls === 1) throw new Error("boom");
    },
  };
  const runner = new RealTimeRunner(node, {
    clock,
    maxSleep: 1_000,
    onError: (e) => errors.push(e),
  });
  runner.start();
  await until(() => calls >= 2);
  runner.stop();
  assert.equal(runner.errors, 1);
  assert.match(String(errors[0]), /boom/);
});

Deno.test("RealTimeRunner.stop() makes kick() a no-op", () => {
  let polls = 0;
  const runner = new RealTimeRunner({ pollAt: () => undefined, poll: () => void polls++ }, {
    clock: new SystemClock(),
  });
  runner.start();
  runner.stop();
  runner.kick();
  assert.equal(polls, 1);
  assert.equal(runner.running, false);
});

Deno.test("RealTimeRunner rejects a maxSleep below 1 ms", () => {
  assert.throws(
    () =>
      new RealTimeRunner({ pollAt: () => undefined, poll() {} }, {
        clock: new SystemClock(),
        maxSleep: 500,
      }),
    RangeError,
  );
});

Deno.test("RealTimeRunner with a watchPollAt object wakes for a deadline armed between kicks", async () => {
  const clock = new SystemClock();
  let deadline: number | undefined = undefined;
  let listener: (() => void) | null = null;
  let fired = false;
  const node: Pollable = {
    pollAt: () => deadline,
    poll(now) {
      if (deadline !== undefined && now >= deadline) {
        fired = true;
        deadline = undefined;
      }
    },
    watchPollAt: (l) => void (listener = l),
  };
  // A minute's sleep: only the watch can make it wake in time.
  const runner = new RealTimeRunner(node, { clock, maxSleep: 60_000_000 });
  runner.start();
  assert.notEqual(listener, null);
  deadline = clock.now() + 2_000; // a user's ping between batches, no kick
  listener!();
  assert.equal(runner.earlier, 1);
  listener!(); // the same deadline again: the armed timer is early enough
  assert.equal(runner.earlier, 1);
  await until(() => fired);
  assert.equal(runner.wakeups, 1);
  runner.stop();
  assert.equal(listener, null, "stop() ends the watch");
});

Deno.test("RealTimeRunner ignores deadline reports made while it polls", () => {
  const clock = new SystemClock();
  let listener: (() => void) | null = null;
  const node: Pollable = {
    pollAt: () => undefined,
    poll: () => listener?.(), // a timer armed inside poll: kick re-arms anyway
    watchPollAt: (l) => void (listener = l),
  };
  const runner = new RealTimeRunner(node, { clock, maxSleep: 60_000_000 });
  runner.start();
  runner.kick();
  runner.stop();
  assert.equal(runner.earlier, 0);
  assert.equal(runner.polls, 2);
});

Deno.test("RealTimeRunner.delay() resolves on the runner's timer, in due order, not before", async () => {
  const clock = new SystemClock();
  const runner = new RealTimeRunner({ pollAt: () => undefined, poll() {} }, {
    clock,
    maxSleep: 1_000_000, // idle: only the delays wake it
  });
  runner.start();
  const order: string[] = [];
  const t0 = clock.now();
  const late = runner.delay(12).then(() => order.push(`late ${clock.now() - t0 >= 12_000}`));
  const early = runner.delay(3).then(() => order.push(`early ${clock.now() - t0 >= 3_000}`));
  assert.ok(runner.msUntilWake() <= 3, "the runner's timer is the earliest delay");
  await Promise.all([late, early]);
  runner.stop();
  assert.deepEqual(order, ["early true", "late true"]);
  assert.ok(runner.wakeups >= 2);
});

Deno.test("RealTimeRunner.stop() resolves pending delays, and a stopped runner's delay resolves at once", async () => {
  const clock = new SystemClock();
  const runner = new RealTimeRunner({ pollAt: () => undefined, poll() {} }, { clock });
  runner.start();
  const pending = runner.delay(60_000);
  runner.stop();
  await pending; // the test's op sanitizer fails if a timer is left behind
  await runner.delay(60_000);
});

Deno.test("RealTimeRunner.delay() rejects a bad ms before arming anything", () => {
  const runner = new RealTimeRunner({ pollAt: () => undefined, poll() {} }, {
    clock: new SystemClock(),
  });
  assert.throws(() => runner.delay(NaN), TypeError);
  assert.throws(() => runner.delay("5" as unknown as number), TypeError);
  assert.throws(() => runner.delay(-1), RangeError);
  assert.throws(() => runner.delay(60_001), RangeError);
  runner.start();
  const sleeps = Array.from({ length: 64 }, () => runner.delay(60_000));
  assert.throws(() => runner.delay(1), /64 delays are already pending/);
  runner.stop();
  return Promise.all(sleeps).then(() => {});
});

Deno.test("RealTimeRunner.kick() once its timer is due does the timer's work: the timer is dropped and msUntilWake counts to the next deadline", () => {
  const clock = new ManualClock();
  let due = 5_000;
  const runner = new RealTimeRunner({
    pollAt: () => due,
    poll(now) {
      if (now >= due) due = now + 5_000;
    },
  }, { clock });
  runner.start(); // timer armed for 5 ms on the manual clock
  assert.equal(runner.msUntilWake(), 5);
  clock.advance(5_000); // due, but the (real) timer has not fired
  assert.equal(runner.msUntilWake(), 0);
  runner.kick(); // what a device's blocking wait does when its budget runs out
  assert.equal(runner.msUntilWake(), 5, "the due timer no longer holds msUntilWake at 0");
  runner.stop();
  assert.equal(runner.wakeups, 0);
});
