/**
 * `PluginContext.onCounterRead`: a plugin's hook runs before the stack's
 * counters are read, one per plugin; a hook that throws is the plugin's
 * fault (counted, logged once) and the read still answers.
 */
import assert from "node:assert/strict";
import { createStack } from "../mod.ts";
import { testPlugin } from "../tests/_test_plugins.ts";
import type { PluginContext } from "./manifest.ts";

Deno.test("onCounterRead: the plugin's hook brings its counter up to date at every read; a second call replaces the first", () => {
  let ctx: PluginContext | undefined;
  let ticks = 0;
  const timer = testPlugin({ name: "timer", counters: ["ticks"] }, (c) => {
    ctx = c;
    const n = c.counter("ticks");
    c.onCounterRead(() => n.value = ++ticks);
    return {};
  });
  const stack = createStack({ seed: 1, plugins: [timer] });
  assert.equal(stack.counters.value("timer.ticks"), 1);
  assert.equal(stack.counters.snapshot()["timer.ticks"], 2);
  assert.match(stack.counterTable(), /ticks 3/);
  ctx!.onCounterRead(() => ctx!.counter("ticks").value = 100);
  assert.equal(stack.counters.value("timer.ticks"), 100, "replaced: the first hook no longer runs");
  assert.equal(ticks, 3);
  assert.throws(() => ctx!.onCounterRead(null as unknown as () => void), TypeError);
  stack.close();
});

Deno.test("onCounterRead: a hook that throws counts as the plugin's fault and the read goes on", () => {
  const logs: string[] = [];
  const bad = testPlugin({ name: "bad" }, (c) => {
    c.onCounterRead(() => {
      throw new Error("boom");
    });
    return {};
  });
  const stack = createStack({ seed: 1, plugins: [bad], log: (r) => logs.push(r.message) });
  const snap = stack.counters.snapshot();
  assert.equal(snap["bad.fault"], 1);
  assert.equal(snap["dispatcher.plugin_fault"], 1);
  stack.counters.snapshot();
  assert.equal(stack.counters.value("bad.fault"), 3);
  assert.equal(logs.filter((m) => m.includes("boom")).length, 1, "logged the first time only");
  stack.close();
});
