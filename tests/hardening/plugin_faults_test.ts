/**
 * Issue 16, finding 3: a plugin that throws a value whose string conversion
 * throws cannot escape its isolation, on any path the dispatcher calls it
 * (receive, hooks, timers, events, flush, ready), and the dispatch-loop and
 * flush limits are explicit.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  Dispatcher,
  MAX_DISPATCH_STEPS,
  MAX_FLUSH_ROUNDS,
  MAX_REASON_LENGTH,
  MAX_UNDECLARED_REASONS,
} from "../../stack/dispatcher.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import { PluginSetupError } from "../../stack/errors.ts";
import type { LogRecord } from "../../stack/log.ts";
import { CONSUMED, type ProtocolHandlers, type RxVerdict } from "../../stack/manifest.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { describeThrown } from "../../stack/_fault.ts";
import { testPlugin } from "../_harness.ts";

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

/** Values whose string conversion throws, made fresh for each use. */
const HOSTILE: Record<string, () => unknown> = {
  "Object.create(null)": () => Object.create(null),
  "a throwing toString": () => ({
    toString() {
      throw new Error("no toString for you");
    },
  }),
  "an Error with a throwing stack getter": () => {
    const e = new Error("hidden");
    Object.defineProperty(e, "stack", {
      get() {
        throw new Error("no stack for you");
      },
    });
    Object.defineProperty(e, "message", {
      get() {
        throw new Error("no message either");
      },
    });
    return e;
  },
  "a revoked Proxy": () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  "a Symbol": () => Symbol("sym"),
};

type Path = "receive" | "hook" | "timer" | "event" | "flush" | "ready";

/** A stack with one plugin throwing `value()` on `path`, exercised once. */
function exercise(path: Path, value: () => unknown): { d: Dispatcher; logs: LogRecord[] } {
  const boom = (): never => {
    throw value();
  };
  const p = testPlugin(
    {
      name: "hostile",
      binds: [{ table: "link", key: 1 }],
      ...(path === "hook" ? { hooks: [{ point: "ingress" as const }] } : {}),
    },
    (ctx) => {
      const h: ProtocolHandlers = {
        receive: (): RxVerdict => {
          if (path === "receive") boom();
          if (path === "flush") ctx.requestFlush();
          return CONSUMED;
        },
      };
      if (path === "hook") Object.assign(h, { hook: boom });
      if (path === "timer") ctx.timer(boom).arm(5);
      if (path === "event") Object.assign(h, { onEvent: boom });
      if (path === "flush") Object.assign(h, { flush: boom });
      if (path === "ready") Object.assign(h, { ready: boom });
      return h;
    },
  );
  const logs: LogRecord[] = [];
  const d = new Dispatcher({ plugins: [p], log: (r) => logs.push(r) });
  const driver = new NullDriver();
  d.addInterface({ driver, addresses: ["10.0.0.1/24"] }); // events
  driver.port!.receive(d.pool.copyOf(new Uint8Array([1]))); // receive, hook, flush
  d.poll(10); // timer
  return { d, logs };
}

for (const [name, value] of Object.entries(HOSTILE)) {
  for (const path of ["receive", "hook", "timer", "event", "flush", "ready"] as const) {
    Deno.test(`Dispatcher isolates a plugin's ${path} that throws ${name}`, () => {
      const { d, logs } = exercise(path, value);
      assert.ok(d.counters.value("hostile.fault") >= 1);
      assert.ok(d.counters.value("dispatcher.plugin_fault") >= 1);
      const line = logs.find((r) =>
        r.level === "error" && /plugin "hostile" threw/.test(r.message)
      );
      assert.ok(line, "the fault is logged");
      assert.equal(d.pool.outstanding, 0);
      d.close();
    });
  }
  Deno.test(`Dispatcher with readyFaults fail wraps ${name} from ready() in PluginSetupError`, () => {
    const p = testPlugin({ name: "hostile" }, () => ({
      ready() {
        throw value();
      },
    }));
    assert.throws(() => new Dispatcher({ plugins: [p], readyFaults: "fail" }), PluginSetupError);
  });
  Deno.test(`Dispatcher wraps ${name} thrown by setup() in PluginSetupError`, () => {
    const p = testPlugin({ name: "hostile" }, () => {
      throw value();
    });
    assert.throws(() => new Dispatcher({ plugins: [p] }), (e) => {
      assert.ok(e instanceof PluginSetupError);
      assert.match(e.message, /Plugin "hostile" failed in setup\(\)/);
      return true;
    });
  });
  Deno.test(`describeThrown() describes ${name} without throwing`, () => {
    assert.equal(typeof describeThrown(value()), "string");
  });
}

Deno.test("describeThrown() cuts a huge message", () => {
  assert.ok(describeThrown("x".repeat(1_000_000)).length <= 2001);
});

Deno.test("Dispatcher counts a hostile verdict (symbol, object, huge number) as bad_verdict", () => {
  const verdicts: unknown[] = [Symbol("v"), Object.create(null), 1e9, -1, 0.5];
  let i = 0;
  const p = testPlugin(
    { name: "odd", binds: [{ table: "link", key: 1 }] },
    () => ({ receive: () => verdicts[i++] as RxVerdict }),
  );
  const d = new Dispatcher({ plugins: [p] });
  d.addInterface({ driver: new NullDriver() });
  for (let k = 0; k < verdicts.length; k++) d.inject(0, new Uint8Array([1]));
  assert.deepEqual(d.counters.snapshot(), { "odd.rx.bad_verdict": 5 });
});

Deno.test("Dispatcher creates no counter and bounded logs for undeclared verdict strings", () => {
  let i = 0;
  const reasons = [
    "x".repeat(10_000),
    "Not A Reason!",
    ...Array.from({ length: 1000 }, (_, k) => `made_up_${k}`),
  ];
  const p = testPlugin(
    { name: "chatty", binds: [{ table: "link", key: 1 }] },
    () => ({ receive: () => reasons[i++]! }),
  );
  const logs: LogRecord[] = [];
  const d = new Dispatcher({ plugins: [p], log: (r) => logs.push(r) });
  d.addInterface({ driver: new NullDriver() });
  for (let k = 0; k < reasons.length; k++) d.inject(0, new Uint8Array([1]));
  assert.deepEqual(d.counters.snapshot(), { "chatty.undeclared": reasons.length });
  const errors = logs.filter((l) => /does not declare/.test(l.message));
  assert.equal(errors.length, MAX_UNDECLARED_REASONS);
  assert.ok(errors.every((l) => l.message.length < MAX_REASON_LENGTH + 200), "no huge log line");
});

Deno.test("Dispatcher ends dispatch after MAX_DISPATCH_STEPS steps as loop_limit", () => {
  let calls = 0;
  const p = testPlugin(
    { name: "looper", binds: [{ table: "link", key: 1 }], exposes: ["link"] },
    (ctx) => ({ receive: (_pkt, rx) => (calls++, rx.next(ctx.table("link"), 1)) }),
  );
  const d = new Dispatcher({ plugins: [p] });
  d.addInterface({ driver: new NullDriver() });
  d.inject(0, new Uint8Array([1]));
  assert.equal(calls, MAX_DISPATCH_STEPS);
  assert.equal(d.counters.value("dispatcher.rx.loop_limit"), 1);
});

Deno.test("Dispatcher runs at most MAX_FLUSH_ROUNDS flush rounds per batch", () => {
  let flushes = 0;
  const p = testPlugin(
    { name: "eager", binds: [{ table: "link", key: 1 }] },
    (ctx) => ({
      receive: () => (ctx.requestFlush(), CONSUMED),
      flush: () => (flushes++, ctx.requestFlush()),
    }),
  );
  const d = new Dispatcher({ plugins: [p] });
  const driver = new NullDriver();
  d.addInterface({ driver });
  driver.port!.receive(d.pool.copyOf(new Uint8Array([1])));
  assert.equal(flushes, MAX_FLUSH_ROUNDS);
  d.close();
});
