import assert from "node:assert/strict";
import { checkBindings, orderHooks, type PluginEntry, resolveOrder } from "./boot.ts";
import { Dispatcher } from "./dispatcher.ts";
import {
  BindingConflictError,
  PluginDependencyError,
  PluginManifestError,
  StackError,
} from "./errors.ts";
import {
  ACCEPT,
  type HookJoin,
  type PluginContext,
  type ProtocolHandlers,
  type ProtocolManifest,
  type ProtocolPlugin,
  STACK_API_VERSION,
} from "./manifest.ts";
import { type TestManifest, testPlugin } from "../tests/_harness.ts";

// ---- helpers -------------------------------------------------------------------

type ManifestPatch = Partial<Record<keyof ProtocolManifest, unknown>> & { name: string };

/** A plugin with a valid default manifest, patched by `m` (even with wrong types). */
function plugin(
  m: ManifestPatch,
  setup?: (ctx: PluginContext) => ProtocolHandlers,
): ProtocolPlugin {
  return testPlugin(m as TestManifest, setup);
}

/** A plugin joining `hooks`, with a pass-through hook handler. */
function hooker(name: string, ...hooks: HookJoin[]): ProtocolPlugin {
  return plugin({ name, hooks }, () => ({ hook: () => ACCEPT }));
}

function boot(...plugins: (ProtocolPlugin | PluginEntry)[]): Dispatcher {
  return new Dispatcher({ plugins });
}

/**
 * Asserts that `fn` throws an instance of `type` with `code`, whose message
 * matches every pattern (the plugin's name and the problem).
 */
function assertCoded(
  fn: () => unknown,
  type: new (...args: never[]) => StackError,
  code: string,
  ...patterns: RegExp[]
): StackError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)}`);
  assert.ok(caught instanceof StackError);
  assert.equal(caught.code, code);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

// ---- manifest validation ---------------------------------------------------------

Deno.test("boot rejects a plugin name that is not lowercase", () => {
  const err = assertCoded(
    () => boot(plugin({ name: "Bad Name" })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "Bad Name"/,
    /name must be lowercase/,
  );
  assert.equal((err as PluginManifestError).plugin, "Bad Name");
});

Deno.test("boot names a plugin without a name by its position", () => {
  assertCoded(
    () => boot(plugin({ name: "ok" }), plugin({ name: undefined as unknown as string })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "#1"/,
    /name must be/,
  );
});

Deno.test("boot rejects a version that is not semver", () => {
  assertCoded(
    () => boot(plugin({ name: "vers", version: "1.0" })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "vers"/,
    /version must be semver/,
  );
});

Deno.test("boot rejects an api range the stack does not implement (^2.0.0)", () => {
  assertCoded(
    () => boot(plugin({ name: "future", api: "^2.0.0" })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "future"/,
    new RegExp(`targets plugin API \\^2\\.0\\.0, but this stack implements ${STACK_API_VERSION}`),
  );
});

Deno.test("boot rejects an api range that does not parse", () => {
  assertCoded(
    () => boot(plugin({ name: "garbled", api: "banana" })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "garbled"/,
    /api range "banana" does not parse/,
  );
});

Deno.test("boot accepts api ranges that include 1.0.0", () => {
  for (const api of ["^1.0.0", "~1.0", "1.x", "*", ">=1.0.0 <2.0.0", "^0.9.0 || ^1.0.0"]) {
    const d = boot(plugin({ name: "ranged", api }));
    assert.deepEqual(d.pluginNames, ["ranged"], api);
  }
});

Deno.test("boot rejects a manifest without counters", () => {
  assertCoded(
    () => boot(plugin({ name: "uncounted", counters: undefined })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "uncounted"/,
    /counters must be an array of strings/,
  );
});

Deno.test("boot rejects an unknown hook point", () => {
  assertCoded(
    () => boot(plugin({ name: "hooky", hooks: [{ point: "sideways" }] })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "hooky"/,
    /unknown hook point "sideways"/,
  );
});

Deno.test("boot rejects an unknown layer, bad binds and bad requirements", () => {
  const cases: [ManifestPatch, RegExp][] = [
    [{ name: "l", layer: "physical" }, /layer must be one of/],
    [{ name: "b", binds: "ethertype" }, /binds must be an array/],
    [{ name: "k", binds: [{ table: "ethertype", key: -1 }] }, /non-negative integer key/],
    [{ name: "f", binds: [{ table: "ethertype", key: 1.5 }] }, /non-negative integer key/],
    [{ name: "r", requires: [42] }, /each requirement is a service name/],
    [{ name: "e", exposes: [1] }, /exposes must be an array of strings/],
    [{ name: "o", options: { mtu: { description: "no default" } } }, /option "mtu" needs/],
    [{ name: "d", description: 7 }, /description must be a string/],
  ];
  for (const [m, re] of cases) {
    assertCoded(() => boot(plugin(m)), PluginManifestError, "EPLUGINMANIFEST", re);
  }
});

Deno.test("boot rejects an entry that is not a plugin, or whose setup is not a function", () => {
  assertCoded(
    () => boot(null as unknown as ProtocolPlugin),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "#0"/,
    /manifest is not an object/,
  );
  assertCoded(
    () => boot({ manifest: plugin({ name: "nosetup" }).manifest } as unknown as ProtocolPlugin),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "nosetup"/,
    /setup must be a function/,
  );
});

// ---- names, dependencies, services --------------------------------------------------

Deno.test("boot rejects two plugins with the same name", () => {
  assertCoded(
    () => boot(plugin({ name: "twin" }), plugin({ name: "twin" })),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "twin"/,
    /two plugins have this name/,
  );
});

Deno.test("boot rejects two providers of one service", () => {
  const a = plugin({ name: "a", provides: ["x.svc"] }, () => ({ services: { "x.svc": 1 } }));
  const b = plugin({ name: "b", provides: ["x.svc"] }, () => ({ services: { "x.svc": 2 } }));
  assertCoded(
    () => boot(a, b),
    PluginManifestError,
    "EPLUGINMANIFEST",
    /plugin "b"/,
    /service "x\.svc" is already provided by "a"/,
  );
});

Deno.test("boot rejects a missing dependency", () => {
  const err = assertCoded(
    () => boot(plugin({ name: "udp", dependencies: ["ipv4"] })),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "udp"/,
    /depends on "ipv4", which is not loaded/,
  );
  assert.equal((err as PluginDependencyError).plugin, "udp");
});

Deno.test("boot rejects a missing required service", () => {
  assertCoded(
    () => boot(plugin({ name: "tcp", requires: ["ipv4.send"] })),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "tcp"/,
    /requires service "ipv4\.send", which no loaded plugin provides/,
  );
});

Deno.test("boot accepts an absent optional service; optionalService() is undefined", () => {
  let seen: unknown = "unset";
  let threw: unknown;
  const p = plugin(
    { name: "opt", requires: [{ service: "arp.resolve", optional: true }] },
    (ctx) => ({
      ready() {
        seen = ctx.optionalService("arp.resolve");
        try {
          ctx.service("arp.resolve");
        } catch (err) {
          threw = err;
        }
      },
    }),
  );
  const d = boot(p);
  assert.equal(seen, undefined);
  assert.ok(threw instanceof PluginDependencyError);
  assert.match(threw.message, /service "arp\.resolve" is not available/);
  assert.equal(d.counters.value("opt.fault"), 0);
});

Deno.test("boot resolves an optional service provided by a later plugin in ready()", () => {
  let atSetup: unknown = "unset";
  let atReady: unknown = "unset";
  const user = plugin(
    { name: "user", requires: [{ service: "late.svc", optional: true }] },
    (ctx) => {
      atSetup = ctx.optionalService("late.svc");
      return { ready: () => void (atReady = ctx.optionalService("late.svc")) };
    },
  );
  const late = plugin({ name: "late", provides: ["late.svc"] }, () => ({
    services: { "late.svc": "here" },
  }));
  const d = boot(user, late);
  assert.deepEqual(d.pluginNames, ["user", "late"]); // optional needs do not reorder
  assert.equal(atSetup, undefined);
  assert.equal(atReady, "here");
});

Deno.test("boot sets up dependencies and service providers first; ties keep the given order", () => {
  const order: string[] = [];
  const mk = (m: ManifestPatch, services?: Record<string, unknown>) =>
    plugin(m, () => {
      order.push(m.name);
      return services ? { services } : {};
    });
  const d = boot(
    mk({ name: "app", requires: ["net.send"] }),
    mk({ name: "z-first" }),
    mk({ name: "net", provides: ["net.send"], dependencies: ["link"] }, { "net.send": 1 }),
    mk({ name: "link" }),
  );
  assert.deepEqual(order, ["link", "net", "app", "z-first"]);
  assert.deepEqual(d.pluginNames, order);
});

Deno.test("boot rejects a dependency cycle and shows it", () => {
  assertCoded(
    () =>
      boot(
        plugin({ name: "a", dependencies: ["b"] }),
        plugin({ name: "b", dependencies: ["c"] }),
        plugin({ name: "c", dependencies: ["a"] }),
      ),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "a"/,
    /dependency cycle a -> b -> c -> a/,
  );
});

Deno.test("boot rejects a plugin that depends on itself", () => {
  assertCoded(
    () => boot(plugin({ name: "narcissus", dependencies: ["narcissus"] })),
    PluginDependencyError,
    "EPLUGINDEP",
    /dependency cycle narcissus -> narcissus/,
  );
});

Deno.test("boot rejects a cycle through required services", () => {
  const a = plugin({ name: "a", provides: ["a.svc"], requires: ["b.svc"] }, () => ({
    services: { "a.svc": 1 },
  }));
  const b = plugin({ name: "b", provides: ["b.svc"], requires: ["a.svc"] }, () => ({
    services: { "b.svc": 1 },
  }));
  assertCoded(
    () => boot(a, b),
    PluginDependencyError,
    "EPLUGINDEP",
    /dependency cycle a -> b -> a/,
  );
});

// ---- bindings -----------------------------------------------------------------------

const ethLike = plugin({ name: "eth", binds: [{ table: "link", key: 1 }], exposes: ["ethertype"] });

Deno.test("boot rejects two plugins bound to ethertype 0x0800", () => {
  assertCoded(
    () =>
      boot(
        ethLike,
        plugin({ name: "ipv4", binds: [{ table: "ethertype", key: 0x0800 }] }),
        plugin({ name: "ipv4bis", binds: [{ table: "ethertype", key: 0x0800 }] }),
      ),
    BindingConflictError,
    "EBINDING",
    /plugin "ipv4bis"/,
    /ethertype 2048/,
    /already bound by "ipv4"/,
  );
});

Deno.test("boot rejects a binding to a table no plugin exposes", () => {
  assertCoded(
    () => boot(ethLike, plugin({ name: "dns", binds: [{ table: "udp.port", key: 53 }] })),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "dns"/,
    /binds table "udp\.port", which no loaded plugin exposes/,
  );
});

Deno.test("boot skips an optional binding to a table no plugin exposes", () => {
  const d = boot(
    ethLike,
    plugin({
      name: "udp",
      binds: [{ table: "ethertype", key: 0x88b5 }, { table: "ip.error", key: 17, optional: true }],
    }),
  );
  const tables = Object.fromEntries(d.describe().tables.map((t) => [t.name, t.entries]));
  assert.deepEqual(tables["ethertype"], [{ key: 0x88b5, plugin: "udp" }]);
  assert.equal(tables["ip.error"], undefined);
});

Deno.test("boot rejects a binding without a receive handler", () => {
  assertCoded(
    () =>
      boot(ethLike, plugin({ name: "mute", binds: [{ table: "ethertype", key: 1 }] }, () => ({}))),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "mute"/,
    /binds ethertype 1 but has no receive handler/,
  );
});

Deno.test("checkBindings() returns the exposed tables, link included", () => {
  const exposed = checkBindings([ethLike.manifest]);
  assert.deepEqual([...exposed].sort(), ["ethertype", "link"]);
});

// ---- hooks ------------------------------------------------------------------------------

Deno.test("orderHooks() sorts by before/after, ties in boot order (VPP feature arcs)", () => {
  const ms = [
    hooker("nat", { point: "prerouting", after: ["conntrack"] }),
    hooker("log", { point: "prerouting" }),
    hooker("conntrack", { point: "prerouting", before: ["filter"] }),
    hooker("filter", { point: "prerouting", after: ["nat"] }),
    hooker("other", { point: "input" }),
  ].map((p) => p.manifest);
  // log has no constraint and comes first in boot order among the ready ones.
  assert.deepEqual(orderHooks("prerouting", ms), ["log", "conntrack", "nat", "filter"]);
  assert.deepEqual(orderHooks("input", ms), ["other"]);
  assert.deepEqual(orderHooks("egress", ms), []);
});

Deno.test("orderHooks() ignores constraints naming plugins not in the chain", () => {
  const ms = [
    hooker("b", { point: "input", after: ["absent"] }),
    hooker("a", { point: "input", before: ["absent"] }),
  ].map((p) => p.manifest);
  assert.deepEqual(orderHooks("input", ms), ["b", "a"]);
});

Deno.test("boot rejects a cycle in hook order", () => {
  assertCoded(
    () =>
      boot(
        hooker("x", { point: "input", before: ["y"] }),
        hooker("y", { point: "input", before: ["z"] }),
        hooker("z", { point: "input", before: ["x"] }),
      ),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "x"/,
    /hook order at input has a cycle among x, y, z/,
  );
});

Deno.test("boot orders hook chains in describe()", () => {
  const d = boot(
    hooker("second", { point: "ingress", after: ["first"] }),
    hooker("first", { point: "ingress" }, { point: "egress", after: ["second"] }),
    hooker("only-egress", { point: "egress", before: ["first"] }),
  );
  const hooks = d.describe().hooks;
  assert.deepEqual(hooks["ingress"], ["first", "second"]);
  assert.deepEqual(hooks["egress"], ["only-egress", "first"]);
});

Deno.test("boot rejects a plugin that joins a hook but returns no hook handler", () => {
  assertCoded(
    () => boot(plugin({ name: "lazy", hooks: [{ point: "input" }] }, () => ({}))),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "lazy"/,
    /joins hook input but setup returned no hook handler/,
  );
});

// ---- options and services -----------------------------------------------------------

const tunable = (seen: Record<string, unknown>[]) =>
  plugin({
    name: "tun",
    options: {
      mtu: { default: 1500, description: "MTU" },
      mode: { default: "tun", description: "tun or tap" },
      pi: { default: false, description: "packet information header" },
    },
  }, (ctx) => {
    seen.push(ctx.options);
    return {};
  });

Deno.test("boot gives plugins their option defaults", () => {
  const seen: Record<string, unknown>[] = [];
  boot(tunable(seen));
  assert.deepEqual(seen, [{ mtu: 1500, mode: "tun", pi: false }]);
  assert.ok(Object.isFrozen(seen[0]));
});

Deno.test("boot merges option overrides over the defaults", () => {
  const seen: Record<string, unknown>[] = [];
  boot({ plugin: tunable(seen), options: { mtu: 9000, pi: true } });
  assert.deepEqual(seen, [{ mtu: 9000, mode: "tun", pi: true }]);
});

Deno.test("boot rejects an unknown option", () => {
  assertCoded(
    () => boot({ plugin: tunable([]), options: { speed: 10 } }),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "tun"/,
    /unknown option "speed"/,
  );
});

Deno.test("boot rejects an option of the wrong type", () => {
  assertCoded(
    () => boot({ plugin: tunable([]), options: { mtu: "big" } }),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "tun"/,
    /option "mtu" must be a number/,
  );
});

Deno.test("boot rejects a service declared in provides but not returned", () => {
  assertCoded(
    () => boot(plugin({ name: "liar", provides: ["liar.svc"] }, () => ({ services: {} }))),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "liar"/,
    /declares service "liar\.svc" but setup did not return it/,
  );
});

Deno.test("PluginContext.table() rejects a table the plugin did not declare", () => {
  assertCoded(
    () => boot(plugin({ name: "nosy" }, (ctx) => (ctx.table("ethertype"), {}))),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "nosy"/,
    /table "ethertype" is not in its exposes or binds/,
  );
});

Deno.test("PluginContext.service() rejects a service the plugin did not require", () => {
  const provider = plugin({ name: "p", provides: ["p.svc"] }, () => ({ services: { "p.svc": 1 } }));
  assertCoded(
    () => boot(provider, plugin({ name: "sneaky" }, (ctx) => (ctx.service("p.svc"), {}))),
    PluginDependencyError,
    "EPLUGINDEP",
    /plugin "sneaky"/,
    /service "p\.svc" is not in its requires/,
  );
});

Deno.test("PluginContext.service() returns a required service during setup", () => {
  let got: unknown;
  const provider = plugin({ name: "p", provides: ["p.svc"] }, () => ({ services: { "p.svc": 7 } }));
  const user = plugin({ name: "u", requires: ["p.svc"] }, (ctx) => {
    got = ctx.service<number>("p.svc");
    return {};
  });
  const d = boot(user, provider);
  assert.equal(got, 7);
  assert.equal(d.service("p.svc"), 7);
});

Deno.test("resolveOrder() returns the entries with their options", () => {
  const a = plugin({ name: "a", dependencies: ["b"] });
  const b = plugin({ name: "b" });
  const order = resolveOrder([{ plugin: a, options: { x: 1 } }, { plugin: b }]);
  assert.deepEqual(order.map((e) => e.plugin.manifest.name), ["b", "a"]);
  assert.deepEqual(order[1]!.options, { x: 1 });
});

Deno.test("a plugin may call hasHooks, runHooks and transmit from setup", () => {
  let has: boolean | undefined;
  let verdict: unknown;
  const early = plugin({ name: "early" }, (ctx) => {
    has = ctx.hasHooks("egress");
    verdict = ctx.runHooks("egress", ctx.pool.alloc(1));
    return {};
  });
  const d = boot(early, hooker("filter", { point: "egress" }));
  assert.equal(has, true); // the chain is known at boot, before setup
  assert.equal(verdict, ACCEPT);
  assert.equal(d.counters.value("early.fault"), 0);
});
