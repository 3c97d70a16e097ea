import assert from "node:assert/strict";
import type { PluginEntry } from "./boot.ts";
import { ManualClock } from "./clock.ts";
import { Dispatcher, type DispatcherOptions, type TraceEvent } from "./dispatcher.ts";
import type { DriverPort, LinkDriver } from "./driver.ts";
import type { LogRecord } from "./log.ts";
import {
  ACCEPT,
  CONSUMED,
  type HookJoin,
  type HookVerdict,
  NEXT,
  type PluginContext,
  type ProtocolHandlers,
  type ProtocolPlugin,
  type RxContext,
  type RxVerdict,
  type StackEvent,
  type Table,
} from "./manifest.ts";
import type { PacketBuffer } from "./packet.ts";
import { type TestManifest, testPlugin } from "../tests/_harness.ts";

// ---- a toy protocol family ----------------------------------------------------------
//
// Frames on link type 1 start with a one-byte protocol number; `l2` strips it
// and dispatches into its `proto` table. Plugins bound to `proto` keys do one
// thing each, so every dispatcher path has a key that reaches it.

/** A driver that records what the stack sends. */
class TestDriver implements LinkDriver {
  readonly linkType: number;
  readonly mtu = 1500;
  port: DriverPort | undefined;
  readonly sent: number[][] = [];
  closed = false;
  constructor(linkType = 1) {
    this.linkType = linkType;
  }
  attach(port: DriverPort): void {
    this.port = port;
  }
  transmit(pkt: PacketBuffer): void {
    this.sent.push([...pkt.data]);
    pkt.release();
  }
  close(): void {
    this.closed = true;
  }
}

type ManifestPatch = TestManifest;

function plugin(
  m: ManifestPatch,
  setup: (ctx: PluginContext) => ProtocolHandlers,
): ProtocolPlugin {
  return testPlugin(m, setup);
}

/** Binds `proto` `key` and answers with `receive`. */
function leaf(
  name: string,
  key: number,
  receive: (pkt: PacketBuffer, rx: RxContext, ctx: PluginContext) => RxVerdict,
  extra: Partial<ManifestPatch> = {},
  more: (ctx: PluginContext) => Partial<ProtocolHandlers> = () => ({}),
): ProtocolPlugin {
  return plugin({ name, binds: [{ table: "proto", key }], ...extra }, (ctx) => ({
    receive: (pkt, rx) => receive(pkt, rx, ctx),
    ...more(ctx),
  }));
}

const l2 = plugin(
  { name: "l2", binds: [{ table: "link", key: 1 }], exposes: ["proto"], counters: ["rx.empty"] },
  (ctx) => {
    const proto = ctx.table("proto");
    return {
      receive(pkt, rx) {
        if (pkt.length === 0) return "empty";
        const key = pkt.buf[pkt.start]!;
        pkt.pull(1);
        return rx.next(proto, key);
      },
    };
  },
);

interface Seen {
  table: string;
  key: number;
  first: number;
}

function toyStack(
  extra: (ProtocolPlugin | PluginEntry)[] = [],
  options: Partial<DispatcherOptions> = {},
) {
  const seen: Record<string, Seen[]> = {};
  const note = (name: string, pkt: PacketBuffer, rx: RxContext) =>
    (seen[name] ??= []).push({ table: rx.table.name, key: rx.key, first: pkt.buf[pkt.start]! });
  const plugins: (ProtocolPlugin | PluginEntry)[] = [
    l2,
    leaf("eater", 1, (pkt, rx) => (note("eater", pkt, rx), CONSUMED)),
    leaf("picky", 2, () => "bad_thing", { counters: ["rx.bad_thing"] }),
    plugin(
      { name: "mid", binds: [{ table: "proto", key: 3 }], exposes: ["sub"] },
      (ctx) => {
        const sub = ctx.table("sub");
        return {
          receive(pkt, rx) {
            note("mid", pkt, rx);
            pkt.pull(1);
            return rx.next(sub, 9);
          },
        };
      },
    ),
    plugin({ name: "deep", binds: [{ table: "sub", key: 9 }] }, () => ({
      receive: (pkt, rx) => (note("deep", pkt, rx), CONSUMED),
    })),
    leaf("looper", 4, (_pkt, rx, ctx) => rx.next(ctx.table("proto"), 4)),
    leaf("thrower", 5, () => {
      throw new Error("boom in receive");
    }),
    leaf("forgetful", 6, () => NEXT), // NEXT without rx.next()
    leaf("forger", 7, (_pkt, rx) => rx.next({ name: "proto" } as Table, 1)), // not a stack table
    leaf("odd", 8, () => 42 as unknown as RxVerdict), // not a verdict (only a cast gets it past the checker)
    // Calls next on its own, then says NEXT again on the second visit.
    plugin({ name: "stale", binds: [{ table: "proto", key: 10 }], exposes: ["sub2"] }, (ctx) => {
      const sub2 = ctx.table("sub2");
      return { receive: (_pkt, rx) => rx.next(sub2, 1) };
    }),
    plugin({ name: "stale2", binds: [{ table: "sub2", key: 1 }] }, () => ({
      receive: () => NEXT,
    })),
    ...extra,
  ];
  const logs: LogRecord[] = [];
  const d = new Dispatcher({
    plugins,
    log: (r) => logs.push(r),
    ...options,
  });
  const driver = new TestDriver();
  const iface = d.addInterface({ driver });
  return { d, iface, driver, seen, logs };
}

// ---- dispatch ---------------------------------------------------------------------------

Deno.test("Dispatcher dispatches by table key to the bound plugin", () => {
  const { d, seen } = toyStack();
  d.inject(0, new Uint8Array([1, 0xaa]));
  assert.deepEqual(seen["eater"], [{ table: "proto", key: 1, first: 0xaa }]);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher follows NEXT through tables", () => {
  const { d, seen } = toyStack();
  d.inject(0, new Uint8Array([3, 0x11, 0x22]));
  assert.deepEqual(seen["mid"], [{ table: "proto", key: 3, first: 0x11 }]);
  assert.deepEqual(seen["deep"], [{ table: "sub", key: 9, first: 0x22 }]);
  assert.deepEqual(d.counters.snapshot(), {});
});

Deno.test("Dispatcher counts a drop reason as <plugin>.rx.<reason>", () => {
  const { d } = toyStack();
  d.inject(0, new Uint8Array([2]));
  d.inject(0, new Uint8Array([2]));
  d.inject(0, new Uint8Array([]));
  assert.deepEqual(d.counters.snapshot(), { "picky.rx.bad_thing": 2, "l2.rx.empty": 1 });
});

Deno.test("Dispatcher counts an unbound key as dispatcher.rx.no_binding", () => {
  const { d } = toyStack();
  d.inject(0, new Uint8Array([99]));
  assert.deepEqual(d.counters.snapshot(), { "dispatcher.rx.no_binding": 1 });
});

Deno.test("Dispatcher counts a link type with no plugin as dispatcher.rx.no_binding", () => {
  const { d } = toyStack();
  const raw = d.addInterface({ driver: new TestDriver(101) });
  d.inject(raw.index, new Uint8Array([1]));
  assert.equal(d.counters.value("dispatcher.rx.no_binding"), 1);
  assert.equal(raw.name, "tun1");
});

Deno.test("Dispatcher ends a plugin that always answers next into itself at the loop limit", () => {
  const { d } = toyStack();
  d.inject(0, new Uint8Array([4]));
  assert.deepEqual(d.counters.snapshot(), { "dispatcher.rx.loop_limit": 1 });
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher drops NEXT without rx.next() as a bad verdict, without throwing", () => {
  const { d } = toyStack();
  d.inject(0, new Uint8Array([6]));
  assert.deepEqual(d.counters.snapshot(), { "forgetful.rx.bad_verdict_1": 1 });
});

Deno.test("Dispatcher does not follow a table left over from an earlier step", () => {
  const { d } = toyStack();
  // stale -> next(sub2, 1) -> stale2 answers NEXT without a new rx.next().
  d.inject(0, new Uint8Array([10]));
  assert.deepEqual(d.counters.snapshot(), { "stale2.rx.bad_verdict_1": 1 });
});

Deno.test("Dispatcher does not follow rx.next() into a table it did not make", () => {
  const { d } = toyStack();
  d.inject(0, new Uint8Array([7]));
  assert.deepEqual(d.counters.snapshot(), { "forger.rx.bad_verdict_1": 1 });
});

Deno.test("Dispatcher counts a verdict that is neither a number it knows nor a reason", () => {
  const { d } = toyStack();
  d.inject(0, new Uint8Array([8]));
  assert.deepEqual(d.counters.snapshot(), { "odd.rx.bad_verdict_42": 1 });
});

Deno.test("Dispatcher returns every buffer to the pool after receive", () => {
  const { d } = toyStack();
  for (let k = 0; k < 12; k++) d.inject(0, new Uint8Array([k, 1, 2, 3]));
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher counts interface statistics on receive", () => {
  const { d, iface } = toyStack();
  d.inject(0, new Uint8Array([1, 2, 3]));
  assert.equal(iface.stats.rxPackets, 1);
  assert.equal(iface.stats.rxBytes, 3);
});

Deno.test("Dispatcher drops frames on a down interface as rxDropped", () => {
  const { d, iface, seen } = toyStack();
  d.setLinkUp("eth0", false);
  d.inject(0, new Uint8Array([1]));
  assert.equal(iface.stats.rxDropped, 1);
  assert.equal(iface.stats.rxPackets, 0);
  assert.equal(seen["eater"], undefined);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher releases a frame for an unknown interface", () => {
  const { d } = toyStack();
  d.inject(7, new Uint8Array([1]));
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher uses a plugin's per-table receiver over receive", () => {
  const calls: string[] = [];
  const multi = plugin(
    { name: "multi", binds: [{ table: "proto", key: 20 }, { table: "sub", key: 20 }] },
    () => ({
      receive: () => (calls.push("receive"), CONSUMED),
      receivers: { sub: () => (calls.push("sub"), CONSUMED) },
    }),
  );
  const { d } = toyStack([multi]);
  d.inject(0, new Uint8Array([20]));
  assert.deepEqual(calls, ["receive"]);
  assert.equal(d.describe().tables.find((t) => t.name === "sub")!.entries.length, 2);
});

Deno.test("PluginContext.deliver() dispatches outside receive (nested dispatch)", () => {
  const got: number[] = [];
  let ctxOut!: PluginContext;
  const reasm = plugin(
    { name: "reasm", binds: [{ table: "proto", key: 30 }], exposes: ["proto"] },
    (ctx) => {
      ctxOut = ctx;
      return {
        receive(_pkt, rx) {
          // Deliver a second packet from inside a receive: the outer step must
          // not be disturbed.
          const inner = ctx.pool.copyOf(new Uint8Array([0x55]));
          ctx.deliver(ctx.table("proto"), 1, inner, rx.iface);
          inner.release();
          got.push(rx.key);
          return CONSUMED;
        },
      };
    },
  );
  const { d, seen, iface } = toyStack([reasm]);
  d.inject(0, new Uint8Array([30]));
  assert.deepEqual(got, [30]);
  assert.deepEqual(seen["eater"], [{ table: "proto", key: 1, first: 0x55 }]);
  const p = d.pool.copyOf(new Uint8Array([0x66]));
  ctxOut.deliver(ctxOut.table("proto"), 1, p, iface);
  p.release();
  assert.equal(seen["eater"]!.length, 2);
  assert.equal(d.pool.outstanding, 0);
});

// ---- fault isolation ----------------------------------------------------------------------

Deno.test("Dispatcher isolates a throwing receive: dropped, counted, logged once", () => {
  const { d, logs } = toyStack();
  for (let i = 0; i < 5; i++) d.inject(0, new Uint8Array([5]));
  assert.equal(d.counters.value("dispatcher.plugin_fault"), 5);
  assert.equal(d.counters.value("thrower.fault"), 5);
  const faultLogs = logs.filter((r) => r.level === "error" && /thrower/.test(r.message));
  assert.equal(faultLogs.length, 1);
  assert.match(faultLogs[0]!.message, /plugin "thrower" threw \(first time/);
  assert.match(faultLogs[0]!.message, /boom in receive/);
  assert.equal(faultLogs[0]!.source, "dispatcher");
  assert.equal(d.isQuarantined("thrower"), false);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher quarantines a plugin after faultLimit faults", () => {
  const events: StackEvent[] = [];
  const watcher = plugin({ name: "watcher" }, () => ({ onEvent: (e) => void events.push(e) }));
  const { d, logs } = toyStack([watcher], { faultLimit: 3 });
  for (let i = 0; i < 3; i++) d.inject(0, new Uint8Array([5]));
  assert.equal(d.isQuarantined("thrower"), true);
  assert.deepEqual(events.filter((e) => e.type === "plugin-quarantined"), [
    { type: "plugin-quarantined", plugin: "thrower" },
  ]);
  assert.ok(logs.some((r) => /plugin "thrower" quarantined after 3 faults/.test(r.message)));
  const desc = d.describe().plugins.find((p) => p.name === "thrower")!;
  assert.equal(desc.quarantined, true);
  assert.equal(desc.faults, 3);
  // Its bindings now drop without calling it.
  d.inject(0, new Uint8Array([5]));
  d.inject(0, new Uint8Array([5]));
  assert.equal(d.counters.value("dispatcher.rx.quarantined"), 2);
  assert.equal(d.counters.value("thrower.fault"), 3);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("PluginContext.hasBinding() is false for a quarantined plugin", () => {
  let ctxOut!: PluginContext;
  const probe = plugin({ name: "probe", exposes: ["proto"] }, (ctx) => (ctxOut = ctx, {}));
  const { d } = toyStack([probe], { faultLimit: 1 });
  const proto = ctxOut.table("proto");
  assert.equal(ctxOut.hasBinding(proto, 5), true);
  assert.equal(ctxOut.hasBinding(proto, 99), false);
  d.inject(0, new Uint8Array([5]));
  assert.equal(ctxOut.hasBinding(proto, 5), false);
});

Deno.test("Dispatcher isolates a throwing timer callback", () => {
  const fired: string[] = [];
  const timed = plugin({ name: "timed" }, (ctx) => {
    ctx.timer(() => {
      throw new Error("tick failed");
    }).arm(10);
    ctx.timer(() => fired.push("good")).arm(20);
    return {};
  });
  const { d, logs } = toyStack([timed]);
  assert.equal(d.pendingTimers, 2);
  assert.equal(d.pollAt(), 10);
  d.poll(30);
  assert.deepEqual(fired, ["good"]);
  assert.equal(d.counters.value("timed.fault"), 1);
  assert.equal(d.counters.value("dispatcher.plugin_fault"), 1);
  assert.ok(logs.some((r) => /tick failed/.test(r.message)));
  assert.equal(d.pollAt(), undefined);
});

Deno.test("Dispatcher does not fire the timers of a quarantined plugin", () => {
  let ticks = 0;
  const bad = leaf(
    "bad",
    40,
    () => {
      throw new Error("x");
    },
    {},
    (ctx) => {
      ctx.timer(() => ticks++).arm(5);
      return {};
    },
  );
  const { d } = toyStack([bad], { faultLimit: 1 });
  d.inject(0, new Uint8Array([40]));
  assert.equal(d.isQuarantined("bad"), true);
  d.poll(10);
  assert.equal(ticks, 0);
});

Deno.test("Dispatcher isolates a throwing onEvent; other plugins still see the event", () => {
  const seen: string[] = [];
  const noisy = plugin({ name: "noisy" }, () => ({
    onEvent() {
      throw new Error("event handler broke");
    },
  }));
  const calm = plugin({ name: "calm" }, () => ({ onEvent: (e) => void seen.push(e.type) }));
  const d = new Dispatcher({ plugins: [noisy, calm] });
  d.addInterface({ driver: new TestDriver(), addresses: ["10.0.0.1/24"] });
  assert.deepEqual(seen, ["interface-added", "address-added"]);
  assert.equal(d.counters.value("noisy.fault"), 2);
});

Deno.test("Dispatcher isolates a throwing ready() and teardown()", () => {
  const p = plugin({ name: "fragile" }, () => ({
    ready() {
      throw new Error("not ready");
    },
    teardown() {
      throw new Error("cannot let go");
    },
  }));
  const d = new Dispatcher({ plugins: [p] });
  const driver = new TestDriver();
  d.addInterface({ driver });
  assert.equal(d.counters.value("fragile.fault"), 1);
  d.close();
  assert.equal(d.counters.value("fragile.fault"), 2);
  assert.equal(driver.closed, true);
});

Deno.test("Dispatcher survives a log sink that throws", () => {
  const { d } = toyStack([], {
    log: () => {
      throw new Error("sink broke");
    },
  });
  d.inject(0, new Uint8Array([5]));
  assert.equal(d.counters.value("thrower.fault"), 1);
  assert.equal(d.logs.sinkErrors, 1);
});

// ---- hooks -----------------------------------------------------------------------------------

function hooker(
  name: string,
  joins: HookJoin[],
  hook: (point: string, pkt: PacketBuffer) => HookVerdict,
  extra: Partial<ManifestPatch> = {},
): ProtocolPlugin {
  return plugin({ name, hooks: joins, ...extra }, () => ({ hook }));
}

Deno.test("ingress hooks run in order and ACCEPT lets the packet through", () => {
  const order: string[] = [];
  const { d, seen } = toyStack([
    hooker(
      "second",
      [{ point: "ingress", after: ["first"] }],
      () => (order.push("second"), ACCEPT),
    ),
    hooker("first", [{ point: "ingress" }], () => (order.push("first"), ACCEPT)),
  ]);
  d.inject(0, new Uint8Array([1, 7]));
  assert.deepEqual(order, ["first", "second"]);
  assert.equal(seen["eater"]!.length, 1);
});

Deno.test("an ingress hook's drop reason is counted as <plugin>.ingress.<reason>", () => {
  const later: string[] = [];
  const { d, seen } = toyStack([
    hooker("fw", [{ point: "ingress" }], () => "blocked", { counters: ["ingress.blocked"] }),
    hooker("after", [{ point: "ingress", after: ["fw"] }], () => (later.push("x"), ACCEPT)),
  ]);
  d.inject(0, new Uint8Array([1]));
  assert.equal(seen["eater"], undefined);
  assert.deepEqual(later, []);
  assert.deepEqual(d.counters.snapshot(), { "fw.ingress.blocked": 1 });
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("an ingress hook that steals (CONSUMED) stops dispatch; receive still releases", () => {
  const stolen: number[] = [];
  const { d, seen } = toyStack([
    hooker("tap", [{ point: "ingress" }], (_p, pkt) => (stolen.push(pkt.length), CONSUMED)),
  ]);
  d.inject(0, new Uint8Array([1, 2]));
  assert.deepEqual(stolen, [2]);
  assert.equal(seen["eater"], undefined);
  assert.deepEqual(d.counters.snapshot(), {});
  assert.equal(d.pool.outstanding, 0); // receive borrows: the stack releases it
});

Deno.test("a throwing hook drops the packet and is counted as a fault", () => {
  const { d, seen } = toyStack([
    hooker("crashy", [{ point: "ingress" }], () => {
      throw new Error("hook broke");
    }),
  ]);
  d.inject(0, new Uint8Array([1]));
  assert.equal(seen["eater"], undefined);
  assert.equal(d.counters.value("crashy.fault"), 1);
  assert.equal(d.counters.value("dispatcher.plugin_fault"), 1);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("a quarantined hook fails closed: its chain drops as dispatcher.rx.quarantined", () => {
  const { d, seen } = toyStack([
    hooker("crashy", [{ point: "ingress" }], () => {
      throw new Error("hook broke");
    }),
  ], { faultLimit: 1 });
  d.inject(0, new Uint8Array([1]));
  assert.equal(d.isQuarantined("crashy"), true);
  d.inject(0, new Uint8Array([1]));
  assert.equal(seen["eater"], undefined);
  assert.equal(d.counters.value("dispatcher.rx.quarantined"), 1);
  assert.equal(d.counters.value("crashy.fault"), 1);
});

Deno.test("egress hooks: ACCEPT sends, a drop reason is counted and released", () => {
  let verdict: HookVerdict = ACCEPT;
  const { d, driver, iface } = toyStack([
    hooker("egfw", [{ point: "egress" }], () => verdict, { counters: ["egress.denied"] }),
  ]);
  d.transmit(0, d.pool.copyOf(new Uint8Array([1, 2, 3])));
  assert.deepEqual(driver.sent, [[1, 2, 3]]);
  assert.equal(iface.stats.txPackets, 1);
  verdict = "denied";
  d.transmit(0, d.pool.copyOf(new Uint8Array([4])));
  assert.equal(driver.sent.length, 1);
  assert.equal(iface.stats.txPackets, 1);
  assert.equal(d.counters.value("egfw.egress.denied"), 1);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("an egress hook that steals (CONSUMED) owns the packet", () => {
  const kept: PacketBuffer[] = [];
  const { d, driver } = toyStack([
    hooker("shaper", [{ point: "egress" }], (_p, pkt) => (kept.push(pkt), CONSUMED)),
  ]);
  d.transmit(0, d.pool.copyOf(new Uint8Array([9])));
  assert.equal(driver.sent.length, 0);
  assert.equal(d.pool.outstanding, 1); // the hook holds it
  kept[0]!.release();
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("PluginContext.runHooks() returns ACCEPT, CONSUMED or the counted reason as a string", () => {
  let ctxOut!: PluginContext;
  let verdict: HookVerdict = ACCEPT;
  const caller = plugin({ name: "caller" }, (ctx) => (ctxOut = ctx, {}));
  const { d } = toyStack([
    caller,
    hooker("inp", [{ point: "input" }], () => verdict, { counters: ["input.spoofed"] }),
  ]);
  const pkt = d.pool.alloc(4);
  assert.equal(ctxOut.hasHooks("input"), true);
  assert.equal(ctxOut.hasHooks("forward"), false);
  assert.equal(ctxOut.runHooks("forward", pkt), ACCEPT);
  assert.equal(ctxOut.runHooks("input", pkt), ACCEPT);
  verdict = CONSUMED;
  assert.equal(ctxOut.runHooks("input", pkt), CONSUMED);
  verdict = "spoofed";
  assert.equal(ctxOut.runHooks("input", pkt), "spoofed");
  verdict = 7 as unknown as HookVerdict; // not a verdict (only a cast gets it past the checker)
  assert.equal(ctxOut.runHooks("input", pkt), "bad_verdict_7");
  assert.deepEqual(d.counters.snapshot(), {
    "inp.input.spoofed": 1,
    "inp.input.bad_verdict_7": 1,
  });
  pkt.release();
});

// ---- trace ----------------------------------------------------------------------------------

Deno.test("Dispatcher.trace() reports each step of one packet", () => {
  const clock = new ManualClock(5_000);
  const { d } = toyStack([], { clock });
  const events: TraceEvent[] = [];
  d.trace((e) => events.push(e));
  d.inject(0, new Uint8Array([3, 0x11, 0x22]));
  assert.deepEqual(
    events.map((e) => [e.direction, e.plugin, e.table, e.key, e.verdict, e.length]),
    [
      ["rx", "l2", "link", 1, "next proto 3", 2],
      ["rx", "mid", "proto", 3, "next sub 9", 1],
      ["rx", "deep", "sub", 9, "consumed", 1],
    ],
  );
  assert.ok(events.every((e) => e.packet === events[0]!.packet && e.ifindex === 0));
  assert.ok(events.every((e) => e.time === 5_000));
});

Deno.test("Dispatcher.trace() gives each packet its own id and shows drops", () => {
  const { d } = toyStack();
  const events: TraceEvent[] = [];
  d.trace((e) => events.push(e));
  d.inject(0, new Uint8Array([2]));
  d.inject(0, new Uint8Array([99]));
  d.inject(0, new Uint8Array([6]));
  d.inject(0, new Uint8Array([5]));
  d.inject(0, new Uint8Array([4]));
  const last = (id: number) => events.filter((e) => e.packet === id).at(-1)!;
  const ids = [...new Set(events.map((e) => e.packet))];
  assert.equal(ids.length, 5);
  assert.deepEqual(ids.map((id) => `${last(id).plugin}: ${last(id).verdict}`), [
    "picky: drop bad_thing",
    "dispatcher: drop no_binding",
    "forgetful: drop bad_verdict_1",
    "thrower: fault",
    "dispatcher: drop loop_limit",
  ]);
});

Deno.test("Dispatcher.trace() shows hook verdicts and transmits", () => {
  const { d } = toyStack([
    hooker("fw", [{ point: "ingress" }], (_p, pkt) => pkt.length > 1 ? "too_big" : ACCEPT, {
      counters: ["ingress.too_big"],
    }),
  ]);
  const events: TraceEvent[] = [];
  d.trace((e) => events.push(e));
  d.inject(0, new Uint8Array([1, 2]));
  d.transmit(0, d.pool.copyOf(new Uint8Array([1, 2, 3])));
  assert.deepEqual(
    events.map((e) => [e.direction, e.plugin, e.table, e.key, e.verdict]),
    [["hook", "fw", "ingress", 0, "drop too_big"], ["tx", "dispatcher", "eth0", 0, "sent"]],
  );
});

Deno.test("Dispatcher.trace(null) turns tracing off", () => {
  const { d } = toyStack();
  const events: TraceEvent[] = [];
  d.trace((e) => events.push(e));
  d.inject(0, new Uint8Array([1]));
  const n = events.length;
  d.trace(null);
  d.inject(0, new Uint8Array([1]));
  assert.equal(events.length, n);
});

Deno.test("Dispatcher turns tracing off when the trace sink throws", () => {
  const { d, logs, seen } = toyStack();
  let calls = 0;
  d.trace(() => {
    calls++;
    throw new Error("sink broke");
  });
  d.inject(0, new Uint8Array([3, 1, 2]));
  d.inject(0, new Uint8Array([3, 1, 2]));
  assert.equal(calls, 1);
  assert.equal(seen["deep"]!.length, 2); // the packets went on regardless
  assert.ok(logs.some((r) => /trace sink threw/.test(r.message)));
});

// ---- interfaces, events, close -----------------------------------------------------------------

Deno.test("Dispatcher.addInterface() attaches the driver and publishes events", () => {
  const events: string[] = [];
  const w = plugin({ name: "w" }, () => ({
    onEvent: (e) => void events.push(`${e.type}${"address" in e ? " " + e.address : ""}`),
  }));
  const d = new Dispatcher({ plugins: [w] });
  const driver = new TestDriver();
  const iface = d.addInterface({ driver, addresses: ["10.0.0.2/24", "fd00::2/64"] });
  assert.equal(driver.port?.ifindex, 0);
  assert.equal(iface.name, "eth0");
  d.addAddress("eth0", "10.0.0.2/24"); // already there: no event
  d.removeAddress(0, "10.0.0.2");
  d.setLinkUp("eth0", false);
  d.setLinkUp("eth0", false); // no change: no event
  assert.deepEqual(events, [
    "interface-added",
    "address-added 10.0.0.2",
    "address-added fd00::2",
    "address-removed 10.0.0.2",
    "link-changed",
  ]);
  assert.throws(() => d.addAddress("eth0", "banana"), TypeError);
  assert.throws(() => d.addAddress("eth9", "10.0.0.1/24"), /Cannot find interface "eth9"/);
});

Deno.test("a driver's port delivers received frames into the stack", () => {
  const { d, driver, seen } = toyStack();
  driver.port!.receive(driver.port!.pool.copyOf(new Uint8Array([1, 0x42])));
  assert.deepEqual(seen["eater"], [{ table: "proto", key: 1, first: 0x42 }]);
  assert.equal(d.pool.outstanding, 0);
});

Deno.test("Dispatcher.close() tears down in reverse order, closes drivers, then drops traffic", () => {
  const order: string[] = [];
  let ticks = 0;
  const mk = (name: string) =>
    plugin({ name }, (ctx) => {
      ctx.timer(() => ticks++).arm(1);
      return { teardown: () => void order.push(name) };
    });
  const d = new Dispatcher({ plugins: [mk("first"), mk("second")] });
  const driver = new TestDriver();
  d.addInterface({ driver });
  d.close();
  d.close(); // idempotent
  assert.deepEqual(order, ["second", "first"]);
  assert.equal(driver.closed, true);
  assert.equal(d.pollAt(), undefined);
  d.poll(100);
  assert.equal(ticks, 0);
  d.inject(0, new Uint8Array([1]));
  d.transmit(0, d.pool.alloc(1));
  assert.equal(d.pool.outstanding, 0);
  assert.equal(driver.sent.length, 0);
});

Deno.test("Dispatcher.addInterface() leaves nothing behind when it fails", () => {
  const events: string[] = [];
  const w = plugin({ name: "w" }, () => ({ onEvent: (e) => void events.push(e.type) }));
  const d = new Dispatcher({ plugins: [w] });
  const broken: LinkDriver = {
    linkType: 1,
    mtu: 1500,
    attach() {
      throw new Error("device busy");
    },
    transmit: (pkt) => pkt.release(),
    close() {},
  };
  assert.throws(() => d.addInterface({ driver: broken }), /device busy/);
  const good = new TestDriver();
  assert.throws(
    () => d.addInterface({ driver: good, addresses: ["10.0.0.1/24", "10.0.0/8"] }),
    /Cannot parse address "10\.0\.0\/8"/,
  );
  assert.equal(good.port, undefined);
  assert.deepEqual(d.interfaces.list(), []);
  assert.deepEqual(events, []);
  d.addInterface({ driver: good, name: "lan" });
  assert.throws(() => d.addInterface({ driver: new TestDriver(), name: "lan" }), /name is taken/);
  assert.deepEqual(d.interfaces.list().map((i) => [i.index, i.name]), [[0, "lan"]]);
  assert.deepEqual(events, ["interface-added"]);
});

// ---- batches and deferred work ---------------------------------------------------------

function flusher(key: number) {
  const log: string[] = [];
  const p = leaf(
    "coalescer",
    key,
    (pkt, _rx, ctx) => {
      log.push(`rx ${pkt.length}`);
      ctx.requestFlush();
      ctx.requestFlush(); // idempotent
      return CONSUMED;
    },
    {},
    () => ({ flush: () => void log.push("flush") }),
  );
  return { p, log };
}

Deno.test("Dispatcher flushes deferred work after each frame outside a batch", () => {
  const { p, log } = flusher(20);
  const { d, driver } = toyStack([p]);
  driver.port!.receive(d.pool.copyOf(new Uint8Array([20])));
  driver.port!.receive(d.pool.copyOf(new Uint8Array([20])));
  assert.deepEqual(log, ["rx 0", "flush", "rx 0", "flush"]);
  d.close();
});

Deno.test("Dispatcher flushes deferred work once at the end of a driver's batch", () => {
  const { p, log } = flusher(20);
  const { d, driver } = toyStack([p]);
  const port = driver.port!;
  port.beginBatch!();
  for (let i = 0; i < 3; i++) port.receive(d.pool.copyOf(new Uint8Array([20])));
  assert.deepEqual(log, ["rx 0", "rx 0", "rx 0"]);
  port.endBatch!();
  assert.deepEqual(log, ["rx 0", "rx 0", "rx 0", "flush"]);
  port.endBatch!(); // unbalanced: harmless
  d.close();
});

Deno.test("Dispatcher isolates a flush handler that throws", () => {
  const p = leaf("badflush", 21, (_pkt, _rx, ctx) => (ctx.requestFlush(), CONSUMED), {}, () => ({
    flush() {
      throw new Error("boom in flush");
    },
  }));
  const { d, driver } = toyStack([p]);
  driver.port!.receive(d.pool.copyOf(new Uint8Array([21])));
  assert.equal(d.counters.value("badflush.fault"), 1);
  assert.equal(d.pool.outstanding, 0);
  d.close();
});

Deno.test("hasEventListeners() is true only when another live plugin has onEvent", () => {
  const seen: boolean[] = [];
  let ask = () => false;
  const asker = testPlugin({ name: "asker" }, (ctx) => {
    ask = () => ctx.hasEventListeners();
    return { onEvent() {} }; // its own handler does not count
  });
  const d1 = new Dispatcher({ plugins: [asker] });
  seen.push(ask());
  const events: string[] = [];
  const listener = testPlugin({ name: "listener" }, () => ({
    onEvent(ev) {
      events.push(ev.type);
    },
  }));
  const d2 = new Dispatcher({ plugins: [asker, listener] });
  seen.push(ask());
  assert.deepEqual(seen, [false, true]);
  d2.publish({ type: "x" });
  assert.deepEqual(events, ["x"]);
  d1.close();
  d2.close();
});

Deno.test("manifest events: a plugin gets only the event types it declares; hasEventListeners(type) says so", () => {
  let ask: (type?: string) => boolean = () => false;
  const asker = testPlugin({ name: "asker" }, (ctx) => {
    ask = (type) => ctx.hasEventListeners(type);
    return {};
  });
  const got: string[] = [];
  const picky = testPlugin({ name: "picky", events: ["address-added"] }, () => ({
    onEvent(ev) {
      got.push(ev.type);
    },
  }));
  const d = new Dispatcher({ plugins: [asker, picky] });
  assert.equal(ask("address-added"), true);
  assert.equal(ask("connection-state"), false);
  assert.equal(ask(), true);
  d.publish({ type: "connection-state" });
  d.publish({ type: "address-added" });
  assert.deepEqual(got, ["address-added"]);
  d.close();
});

Deno.test("manifest events must be an array of strings", () => {
  assert.throws(
    () => new Dispatcher({ plugins: [testPlugin({ name: "bad", events: "all" as never })] }),
    /events must be an array of strings/,
  );
});
