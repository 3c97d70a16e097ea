/**
 * The proxy's options are checked at set-up (stack/validate.ts policy) and
 * a stack manifest can load it by its built-in name.
 */
import assert from "node:assert/strict";
import {
  createStack,
  DEFAULT_PLUGINS,
  loadStack,
  mcproxyPlugin,
  PluginDependencyError,
} from "../../mod.ts";

function boot(options: Record<string, number | string | boolean>) {
  return createStack({
    plugins: [
      ...DEFAULT_PLUGINS.map((plugin) => ({ plugin })),
      { plugin: mcproxyPlugin, options },
    ],
  });
}

/** The set-up failure's cause (the stack wraps plugin set-up errors). */
function setupError(options: Record<string, number | string | boolean>): unknown {
  try {
    boot(options).close();
  } catch (e) {
    let x: unknown = e;
    while (x instanceof Error && x.cause !== undefined) x = x.cause;
    return x;
  }
  return undefined;
}

Deno.test("mcproxy options: missing interfaces, a name in both roles and a repeated name are RangeErrors", () => {
  assert.ok(setupError({ downstream: "lan0" }) instanceof RangeError);
  assert.ok(setupError({ upstream: "up0" }) instanceof RangeError);
  assert.ok(setupError({ upstream: "up0", downstream: " , " }) instanceof RangeError);
  assert.ok(setupError({ upstream: "up0", downstream: "lan0,up0" }) instanceof RangeError);
  assert.ok(setupError({ upstream: "up0", downstream: "lan0,lan0" }) instanceof RangeError);
});

Deno.test("mcproxy options: wrong types are refused, fractions are TypeErrors, out-of-range numbers RangeErrors", () => {
  const names = { upstream: "up0", downstream: "lan0" };
  // The stack checks option types against the defaults' before set-up.
  assert.ok(setupError({ upstream: 1, downstream: "lan0" }) instanceof PluginDependencyError);
  assert.ok(setupError({ upstream: "up0", downstream: true }) instanceof PluginDependencyError);
  assert.ok(setupError({ ...names, robustness: 1.5 }) instanceof TypeError);
  assert.ok(setupError({ ...names, robustness: 0 }) instanceof RangeError);
  assert.ok(setupError({ ...names, robustness: 8 }) instanceof RangeError);
  assert.ok(setupError({ ...names, queryInterval: 10 }) instanceof RangeError);
  assert.ok(setupError({ ...names, maxSources: 129 }) instanceof RangeError);
  assert.equal(setupError(names), undefined);
});

Deno.test("mcproxy loads by name from a stack manifest, after igmp, joining prerouting", async () => {
  const stack = await loadStack({
    plugins: [
      "ethernet",
      "arp",
      "ipv4",
      "igmp",
      { use: "mcproxy", options: { upstream: "up0", downstream: "lan0,lan1" } },
    ],
  });
  const d = stack.describe();
  assert.ok(d.plugins.some((p) => p.name === "mcproxy"));
  stack.close();
});
