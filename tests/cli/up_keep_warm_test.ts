/**
 * `up --keep-warm`'s shadow echo (`cli/_up_keep_warm.ts`): each warm-up is
 * one echo answered into the shadow's sink, the pool gets every buffer
 * back, and a real stack in the same process sees none of it. The option's
 * parsing; the device and capture side are in `tests/interop/up_wait_test.ts`.
 */
import assert from "node:assert/strict";
import { EchoWarmer, parseKeepWarm } from "../../cli/_up_keep_warm.ts";
import { createStack, SystemClock } from "../../mod.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";

Deno.test("EchoWarmer answers each warm-up into its sink and gives every buffer back", () => {
  for (const frameMax of [1500, 65535]) {
    const warmer = new EchoWarmer({ linkType: 101, mtu: 1500, tsoMaxSize: 65535 }, frameMax);
    try {
      const n = 20_000;
      for (let i = 0; i < n; i++) warmer.warm();
      assert.equal(warmer.replies, n, "one reply per warm-up: the echo ran to its end");
      assert.equal(warmer.outstanding, 0);
    } finally {
      warmer.close();
    }
  }
});

Deno.test("EchoWarmer touches nothing of another stack in the process", () => {
  let port: DriverPort | null = null;
  const sent: PacketBuffer[] = [];
  const driver: LinkDriver = {
    linkType: 101,
    mtu: 1500,
    attach: (p) => void (port = p),
    transmit: (pkt) => void sent.push(pkt),
    close() {},
  };
  const stack = createStack({ clock: new SystemClock(), seed: 3 });
  stack.addInterface({ driver, name: "tun0", addresses: ["192.0.2.2/24"] });
  const warmer = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1500);
  try {
    const before = stack.counterTable();
    const outstanding = port!.pool.outstanding;
    for (let i = 0; i < 1_000; i++) warmer.warm();
    assert.equal(warmer.replies, 1_000);
    assert.deepEqual(stack.counterTable(), before);
    assert.equal(sent.length, 0, "nothing reached the real stack's driver");
    assert.equal(port!.pool.outstanding, outstanding);
  } finally {
    warmer.close();
    stack.close();
  }
});

Deno.test("parseKeepWarm: a whole number of ms 0..1000, with --driver tun and a blocking wait", () => {
  assert.equal(parseKeepWarm(undefined, "tun", "block"), 5);
  assert.equal(parseKeepWarm(undefined, "tun", "spin=2500"), 5);
  assert.equal(parseKeepWarm("20", "tun", "block"), 20);
  assert.equal(parseKeepWarm("0", "tun", "block"), 0);
  assert.equal(parseKeepWarm("1000", "tun", "block"), 1000);
  // Off by default where no device sleeps; an explicit 0 is allowed anywhere.
  assert.equal(parseKeepWarm(undefined, "tun", "poll"), 0);
  assert.equal(parseKeepWarm(undefined, "tap", "block"), 0);
  assert.equal(parseKeepWarm(undefined, "loopback", undefined), 0);
  assert.equal(parseKeepWarm("0", "loopback", undefined), 0);
  for (const bad of ["", "-1", "1001", "2.5", "5ms", "off", " 5"]) {
    assert.throws(
      () => parseKeepWarm(bad, "tun", "block"),
      new RegExp(
        `^UsageError: --keep-warm must be a whole number of ms in 0\\.\\.1000, not "${
          bad.replace(/[.]/g, "\\.")
        }"$`,
      ),
    );
  }
  for (const [driver, wait] of [["tap", "block"], ["tun", "poll"], ["loopback", undefined]]) {
    assert.throws(
      () => parseKeepWarm("5", driver!, wait as "block" | "poll" | undefined),
      /--keep-warm needs --driver tun with --wait block or spin=N/,
    );
  }
});
