/**
 * The dispatcher's development checks: undeclared drop reasons
 * (`strictCounters`), and boot failures that name the plugin (`setup()`
 * always, `ready()` with `readyFaults: "fail"`).
 */
import assert from "node:assert/strict";
import { Dispatcher, type DispatcherOptions } from "./dispatcher.ts";
import type { DriverPort, LinkDriver } from "./driver.ts";
import { PluginManifestError, PluginSetupError } from "./errors.ts";
import { MAX_REASON_LENGTH } from "./limits.ts";
import { ACCEPT, CONSUMED, type HookJoin } from "./manifest.ts";
import type { LogRecord } from "./log.ts";
import type { PacketBuffer } from "./packet.ts";
import { testPlugin } from "../tests/_harness.ts";

class NullDriver implements LinkDriver {
  readonly linkType = 1;
  readonly mtu = 1500;
  port: DriverPort | undefined;
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    pkt.release();
  }
  close(): void {}
}

/** A stack whose one plugin takes every frame and drops it as `reason`. */
function dropper(reason: string, options: Partial<DispatcherOptions> = {}): Dispatcher {
  const p = testPlugin(
    { name: "picky", binds: [{ table: "link", key: 1 }], counters: ["rx.declared"] },
    () => ({ receive: () => reason }),
  );
  const d = new Dispatcher({ plugins: [p], ...options });
  d.addInterface({ driver: new NullDriver() });
  return d;
}

Deno.test("Dispatcher counts a declared drop reason under <plugin>.rx.<reason> only", () => {
  const d = dropper("declared", { strictCounters: true });
  d.inject(0, new Uint8Array([1]));
  assert.equal(d.counters.value("picky.rx.declared"), 1);
  assert.equal(d.counters.value("picky.undeclared"), 0);
});

Deno.test("Dispatcher with strictCounters throws on a drop reason the manifest does not declare", () => {
  const d = dropper("surprise", { strictCounters: true });
  assert.throws(
    () => d.inject(0, new Uint8Array([1])),
    /Undeclared drop reason: plugin "picky" dropped a packet for "rx\.surprise"/,
  );
});

/**
 * A stack where "sender" answers every frame by transmitting one, and
 * "filter"'s egress hook drops it as `reason`: the drop is counted inside
 * sender's call.
 */
function egressDropper(reason: string, options: Partial<DispatcherOptions> = {}) {
  const sender = testPlugin(
    { name: "sender", binds: [{ table: "link", key: 1 }] },
    (ctx) => ({
      receive: (pkt) => {
        const out = ctx.pool.alloc(1);
        ctx.transmit(pkt.ifindex, out);
        pkt.release();
        return CONSUMED;
      },
    }),
  );
  const filter = testPlugin(
    { name: "filter", hooks: [{ point: "egress" }], counters: ["egress.declared"] },
    () => ({ hook: () => reason }),
  );
  const d = new Dispatcher({ plugins: [sender, filter], ...options });
  d.addInterface({ driver: new NullDriver() });
  return d;
}

Deno.test("Dispatcher with strictCounters throws an undeclared hook drop out of the plugin call it crossed, blaming no one else", () => {
  const d = egressDropper("surprise", { strictCounters: true });
  assert.throws(
    () => d.inject(0, new Uint8Array([1])),
    /Undeclared drop reason: plugin "filter" dropped a packet for "egress\.surprise"/,
  );
  assert.equal(d.counters.value("sender.fault"), 0);
  assert.equal(d.counters.value("dispatcher.plugin_fault"), 0);
});

Deno.test("Dispatcher counts a declared egress hook drop inside another plugin's call and frees the packet", () => {
  const d = egressDropper("declared", { strictCounters: true });
  d.inject(0, new Uint8Array([1]));
  assert.equal(d.counters.value("filter.egress.declared"), 1);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher without strictCounters counts an undeclared reason under <plugin>.undeclared only, logged once", () => {
  const logs: LogRecord[] = [];
  const d = dropper("surprise", { log: (r) => logs.push(r) });
  d.inject(0, new Uint8Array([1]));
  d.inject(0, new Uint8Array([1]));
  assert.deepEqual(d.counters.snapshot(), { "picky.undeclared": 2 });
  const errors = logs.filter((l) => l.level === "error" && /rx\.surprise/.test(l.message));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /picky.*does not declare.*counted as picky\.undeclared/);
});

Deno.test("Dispatcher without strictCounters reports an undeclared hook drop as 'undeclared' to the caller", () => {
  const p = testPlugin(
    { name: "filter", hooks: [{ point: "input" }], counters: ["input.declared"] },
    () => ({ hook: () => "surprise" }),
  );
  const logs: LogRecord[] = [];
  const d = new Dispatcher({ plugins: [p], log: (r) => logs.push(r) });
  const pkt = d.pool.alloc(1);
  assert.equal(d.runHooks("input", pkt), "undeclared");
  pkt.release();
  assert.deepEqual(d.counters.snapshot(), { "filter.undeclared": 1 });
  assert.equal(logs.filter((l) => l.level === "error").length, 1);
});

Deno.test("Dispatcher boot fails on a counter that cannot be a drop reason (malformed, too long, hook not joined)", () => {
  const boot = (counters: string[], hooks: HookJoin[] = []) => () =>
    new Dispatcher({
      plugins: [testPlugin({ name: "decl", counters, hooks }, () => ({ hook: () => ACCEPT }))],
    });
  assert.throws(
    boot(["rx.Bad Checksum"]),
    (e) =>
      e instanceof PluginManifestError &&
      /counter "rx\.Bad Checksum" must be lowercase/.test(e.message),
  );
  assert.throws(boot(["rx..empty"]), PluginManifestError);
  assert.throws(boot([`rx.${"x".repeat(MAX_REASON_LENGTH + 1)}`]), /longer than 64/);
  assert.throws(
    boot(["prerouting.blocked"], [{ point: "input" }]),
    /counter "prerouting\.blocked" is a drop reason at hook point prerouting, which it does not join/,
  );
  // The same declarations are fine where they can be used.
  boot(["rx.bad_checksum", `rx.${"x".repeat(MAX_REASON_LENGTH)}`, "requests"])().close();
  boot(["prerouting.blocked"], [{ point: "prerouting" }])().close();
});

Deno.test("Dispatcher names the plugin whose setup() throws", () => {
  const p = testPlugin({ name: "broken" }, () => {
    throw new Error("no table for me");
  });
  assert.throws(
    () => new Dispatcher({ plugins: [p] }),
    (e: Error) =>
      e instanceof PluginSetupError && e.plugin === "broken" &&
      e.message === 'Plugin "broken" failed in setup(): no table for me',
  );
});

Deno.test("Dispatcher with readyFaults fail throws for a ready() that throws; default isolates it", () => {
  const p = testPlugin({ name: "late" }, () => ({
    ready() {
      throw new Error("service missing");
    },
  }));
  assert.throws(
    () => new Dispatcher({ plugins: [p], readyFaults: "fail" }),
    /^PluginSetupError: Plugin "late" failed in ready\(\): service missing$/m,
  );
  const d = new Dispatcher({ plugins: [p] });
  assert.equal(d.counters.value("late.fault"), 1);
  d.close();
});

Deno.test("Dispatcher keeps a TypeError or RangeError from setup() (bad options), naming the plugin", () => {
  const p = testPlugin({ name: "ranged" }, () => {
    throw new RangeError("port range is backwards");
  });
  assert.throws(
    () => new Dispatcher({ plugins: [p] }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message === 'Plugin "ranged" failed in setup(): port range is backwards',
  );
});
