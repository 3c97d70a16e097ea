import assert from "node:assert/strict";
import { createStack, VirtualNetwork } from "../mod.ts";
import type * as Public from "../mod.ts";
import { kernelOf, Stack } from "./stack.ts";

/** The dispatcher's operations that only drivers and plugins may call. */
const KERNEL_OPERATIONS = [
  "receive",
  "inject",
  "transmit",
  "runHooks",
  "publish",
  "beginBatch",
  "endBatch",
] as const;

Deno.test("Stack façade has none of the kernel operations, on the object or its prototype chain", () => {
  const stack = createStack({ seed: 1 });
  try {
    for (const op of KERNEL_OPERATIONS) {
      assert.equal(op in stack, false, `Stack exposes ${op}`);
      assert.equal(typeof kernelOf(stack)[op], "function", `the kernel lost ${op}`);
    }
  } finally {
    stack.close();
  }
});

Deno.test("Stack façade does not hand out its kernel through any property or getter", () => {
  const stack = createStack({ seed: 1 });
  try {
    const kernel = kernelOf(stack);
    const seen: unknown[] = Object.values(stack);
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(Stack.prototype))) {
      if (d.get !== undefined) seen.push(Reflect.get(stack, name));
    }
    assert.ok(seen.length > 5);
    assert.ok(!seen.includes(kernel));
  } finally {
    stack.close();
  }
});

Deno.test("Stack façade kernel operations are type errors", () => {
  // Never called: the checker alone decides (deno check / deno test check it).
  function _typeLevel(stack: Public.Stack, pkt: Public.PacketBuffer): void {
    // @ts-expect-error receive is the kernel's (drivers reach it through their DriverPort)
    stack.receive(0, pkt);
    // @ts-expect-error inject is the kernel's (tests: kernelOf(stack).inject)
    stack.inject(0, new Uint8Array(1));
    // @ts-expect-error transmit is the kernel's (plugins: ctx.transmit)
    stack.transmit(0, pkt);
    // @ts-expect-error runHooks is the kernel's (plugins: ctx.runHooks)
    stack.runHooks("input", pkt);
    // @ts-expect-error publish is the kernel's (plugins: ctx.publish)
    stack.publish({ type: "x" });
    // @ts-expect-error beginBatch is the kernel's (drivers: port.beginBatch)
    stack.beginBatch();
    // @ts-expect-error endBatch is the kernel's (drivers: port.endBatch)
    stack.endBatch();
  }
  // @ts-expect-error the dispatcher class is not part of the public API
  type _NoDispatcher = Public.Dispatcher;
  assert.equal(typeof _typeLevel, "function");
});

Deno.test("Stack façade still drives a stack end to end (interfaces, ping, counters, graph)", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const a = net.addNode(createStack({ clock: net.clock, seed: 1, strictCounters: true }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2, strictCounters: true }));
  a.addInterface({ driver: link.a, addresses: ["10.0.0.1/24"] });
  b.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  const reply = await net.run(() => a.ping("10.0.0.2"));
  assert.equal(reply.from, "10.0.0.2");
  assert.ok(a.counters.snapshot()["dispatcher.rx.no_binding"] === undefined);
  assert.match(a.graph(), /eth0 -> ethernet/);
  assert.equal(a.interfaces.byName("eth0")?.index, 0);
  assert.ok(a.pluginNames.includes("icmp"));
  assert.equal(a.pool.outstanding, 0);
  a.close();
  b.close();
  net.close();
});
