/**
 * Issue 16, finding 6: manifest edge cases at boot.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type PluginEntry, resolveOrder } from "../../stack/boot.ts";
import { Dispatcher } from "../../stack/dispatcher.ts";
import {
  PluginDependencyError,
  PluginManifestError,
  PluginSetupError,
} from "../../stack/errors.ts";
import type { ProtocolHandlers } from "../../stack/manifest.ts";
import { testPlugin } from "../_harness.ts";

Deno.test("boot refuses a plugin named dispatcher (it would share the dispatcher's counters)", () => {
  assert.throws(
    () => new Dispatcher({ plugins: [testPlugin({ name: "dispatcher" })] }),
    (e) => e instanceof PluginManifestError && /reserved/.test(e.message),
  );
});

Deno.test("boot refuses a manifest declaring the dispatcher's own counters fault or undeclared", () => {
  for (const c of ["fault", "undeclared"]) {
    assert.throws(
      () => new Dispatcher({ plugins: [testPlugin({ name: "p", counters: [c] })] }),
      (e) => e instanceof PluginManifestError && new RegExp(`"${c}" is reserved`).test(e.message),
    );
  }
});

Deno.test("resolveOrder() sorts a chain of 20,000 dependencies without overflowing the stack", () => {
  const n = 20_000;
  const entries: PluginEntry[] = [];
  // p0 depends on p1, which depends on p2, ...: listed first, set up last.
  for (let i = 0; i < n; i++) {
    entries.push({
      plugin: testPlugin({ name: `p${i}`, ...(i + 1 < n ? { dependencies: [`p${i + 1}`] } : {}) }),
    });
  }
  const order = resolveOrder(entries).map((e) => e.plugin.manifest.name);
  assert.equal(order.length, n);
  assert.equal(order[0], `p${n - 1}`);
  assert.equal(order[n - 1], "p0");
});

Deno.test("resolveOrder() still names a long dependency cycle", () => {
  const n = 5000;
  const entries: PluginEntry[] = [];
  for (let i = 0; i < n; i++) {
    entries.push({ plugin: testPlugin({ name: `p${i}`, dependencies: [`p${(i + 1) % n}`] }) });
  }
  assert.throws(
    () => resolveOrder(entries),
    (e) => e instanceof PluginDependencyError && /dependency cycle p0 -> p1 -> /.test(e.message),
  );
});

Deno.test("resolveOrder() keeps the given order among independent plugins, dependencies first", () => {
  const entries = [
    { plugin: testPlugin({ name: "c", dependencies: ["a"] }) },
    { plugin: testPlugin({ name: "b" }) },
    { plugin: testPlugin({ name: "a" }) },
  ];
  assert.deepEqual(resolveOrder(entries).map((e) => e.plugin.manifest.name), ["a", "c", "b"]);
});

for (const value of [null, undefined, 42]) {
  Deno.test(`boot names the plugin whose setup() returns ${value}`, () => {
    const p = testPlugin({ name: "empty" }, () => value as unknown as ProtocolHandlers);
    assert.throws(
      () => new Dispatcher({ plugins: [p] }),
      (e) =>
        e instanceof PluginSetupError && e.plugin === "empty" &&
        /Plugin "empty" failed in setup\(\): setup\(\) returned/.test(e.message),
    );
  });
}
