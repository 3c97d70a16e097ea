import assert from "node:assert/strict";
import { Counter, Counters, formatCounters } from "./counters.ts";

Deno.test("Counters.get() creates a counter once and returns the same object after", () => {
  const cs = new Counters();
  const a = cs.get("ipv4.rx.bad_checksum");
  assert.ok(a instanceof Counter);
  assert.equal(a.name, "ipv4.rx.bad_checksum");
  assert.equal(a.value, 0);
  a.value += 3;
  assert.equal(cs.get("ipv4.rx.bad_checksum"), a);
  assert.equal(cs.value("ipv4.rx.bad_checksum"), 3);
  assert.equal(cs.value("never.made"), 0);
});

Deno.test("Counters.snapshot() is sorted by name and skips zeros unless asked", () => {
  const cs = new Counters();
  cs.get("udp.rx.no_port").value = 2;
  cs.get("arp.rx.requests").value = 1;
  cs.get("ipv4.rx.truncated");
  assert.deepEqual(Object.keys(cs.snapshot()), ["arp.rx.requests", "udp.rx.no_port"]);
  assert.deepEqual(cs.snapshot(true), {
    "arp.rx.requests": 1,
    "ipv4.rx.truncated": 0,
    "udp.rx.no_port": 2,
  });
  assert.deepEqual(Object.keys(cs.snapshot(true)), [
    "arp.rx.requests",
    "ipv4.rx.truncated",
    "udp.rx.no_port",
  ]);
});

Deno.test("Counters.snapshot() is a copy", () => {
  const cs = new Counters();
  const c = cs.get("x.y");
  c.value = 1;
  const snap = cs.snapshot();
  c.value = 5;
  assert.equal(snap["x.y"], 1);
});

Deno.test("Counters.reset() zeroes every counter and keeps the objects", () => {
  const cs = new Counters();
  const c = cs.get("a.b");
  c.value = 9;
  cs.reset();
  assert.equal(c.value, 0);
  assert.equal(cs.get("a.b"), c);
  assert.deepEqual(cs.snapshot(), {});
});

Deno.test("formatCounters() groups by plugin, aligns and sorts, like netstat -s", () => {
  const text = formatCounters({
    "ipv4.rx.delivered": 3,
    "arp.tx.request": 1,
    "ipv4.rx.bad_checksum": 12,
    "dispatcher.plugin_fault": 2,
  });
  assert.equal(
    text,
    [
      "arp:",
      "  tx.request 1",
      "dispatcher:",
      "  plugin_fault 2",
      "ipv4:",
      "  rx.bad_checksum 12",
      "  rx.delivered    3",
    ].join("\n"),
  );
});

Deno.test("formatCounters() copes with names without a dot and with no counters", () => {
  assert.equal(formatCounters({}), "");
  assert.equal(formatCounters({ lonely: 4 }), "lonely:\n   4");
});

Deno.test("Counters.onRead() hooks run before snapshot(), value() and reset(), never when counting", () => {
  const cs = new Counters();
  let runs = 0;
  const timed = cs.get("demo.state_us");
  cs.onRead(() => {
    runs++;
    timed.value += 10;
  });
  const c = cs.get("demo.events");
  c.value++;
  cs.at(0);
  assert.equal(runs, 0, "get(), at() and increments run no hook");
  assert.equal(cs.snapshot()["demo.state_us"], 10);
  assert.equal(cs.value("demo.state_us"), 20);
  assert.equal(runs, 2);
  cs.reset(); // the hook's time up to the reset is added, then zeroed
  assert.equal(runs, 3);
  assert.equal(timed.value, 0);
  assert.throws(() => cs.onRead("no" as unknown as () => void), TypeError);
});

Deno.test("Counters.onRead(): a hook that reads the counters does not run the hooks again", () => {
  const cs = new Counters();
  let runs = 0;
  cs.onRead(() => {
    runs++;
    cs.snapshot();
    cs.value("x.y");
  });
  cs.snapshot();
  assert.equal(runs, 1);
  cs.value("x.y");
  assert.equal(runs, 2);
});
