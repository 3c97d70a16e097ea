/**
 * `up --keep-warm`'s shadow echo (`cli/_up_keep_warm.ts`): each warm-up is
 * one IPv4 and one IPv6 echo answered into the shadow's sink and nothing
 * else sent, the pool gets every buffer back, and a real stack in the same
 * process sees none of it; the shadow takes the real stack's protocol
 * plugins, not its services. The option's parsing; the device and capture
 * side are in `tests/interop/up_wait_test.ts`.
 */
import assert from "node:assert/strict";
import { EchoWarmer, parseKeepWarm, shadowPlugins } from "../../cli/_up_keep_warm.ts";
import {
  createStack,
  DEFAULT_PLUGINS,
  icmpPlugin,
  icmpv6Plugin,
  ipv4Plugin,
  ipv6Plugin,
  rawIpPlugin,
  SystemClock,
} from "../../mod.ts";
import type { PluginLike } from "../../cli/_common.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { plugin as blockSource } from "../../plugins/block_source/mod.ts";
import { testPlugin } from "../_test_plugins.ts";

const nameOf = (p: PluginLike) => ("plugin" in p ? p.plugin : p).manifest.name;

Deno.test("EchoWarmer answers each warm-up into its sink and gives every buffer back", () => {
  for (const frameMax of [1500, 65535]) {
    const warmer = new EchoWarmer({ linkType: 101, mtu: 1500, tsoMaxSize: 65535 }, frameMax);
    try {
      const n = 20_000;
      for (let i = 0; i < n; i++) warmer.warm();
      assert.equal(warmer.replies, 2 * n, "two replies per warm-up: both echoes ran to their end");
      assert.equal(warmer.stray, 0);
      assert.equal(warmer.outstanding, 0);
    } finally {
      warmer.close();
    }
  }
});

Deno.test("EchoWarmer's IPv6 echo is answered every tick, and the shadow sends nothing else", async () => {
  const warmer = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1500);
  try {
    // Ticks 5 ms apart, as up's default: time passes, yet no timer of the
    // shadow (MLD report, DAD, router solicitation) ever sends.
    for (let tick = 1; tick <= 40; tick++) {
      warmer.warm();
      const c = warmer.counters();
      assert.equal(c["icmpv6.tx.echo_replies"], tick, `tick ${tick}: ${JSON.stringify(c)}`);
      assert.equal(c["icmp.tx.echo_replies"], tick);
      assert.equal(warmer.replies, 2 * tick);
      assert.equal(warmer.stray, 0, `tick ${tick}: a frame that is not an echo reply`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const c = warmer.counters();
    for (const name of Object.keys(c)) {
      assert.ok(!/^(ndp|mld|slaac)\./.test(name), `${name} ${c[name]}: the shadow solicited`);
    }
    assert.equal(c["ipv6.tx.packets"], 40, "one IPv6 packet a tick: the echo reply");
  } finally {
    warmer.close();
  }
});

Deno.test("EchoWarmer warms the versions its plugins route, and refuses a link that is not raw IP", () => {
  const only6 = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1500, [
    rawIpPlugin,
    ipv6Plugin,
    icmpv6Plugin,
  ]);
  try {
    for (let i = 0; i < 10; i++) only6.warm();
    assert.equal(only6.replies, 10);
    assert.equal(only6.counters()["icmpv6.tx.echo_replies"], 10);
  } finally {
    only6.close();
  }
  assert.throws(
    () => new EchoWarmer({ linkType: 1, mtu: 1500 }, 1514),
    /^TypeError: keep-warm needs a raw IP link \(101\), not 1$/,
  );
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
  // The shadow's own addresses, so that a leak would be answered here.
  stack.addInterface({ driver, name: "tun0", addresses: ["192.0.2.2/24", "2001:db8::2/64"] });
  const traced: unknown[] = [];
  stack.trace((ev) => traced.push(ev));
  const warmer = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1500);
  try {
    const before = stack.counterTable();
    const outstanding = port!.pool.outstanding;
    for (let i = 0; i < 1_000; i++) warmer.warm();
    assert.equal(warmer.replies, 2_000);
    assert.deepEqual(stack.counterTable(), before);
    assert.equal(sent.length, 0, "nothing reached the real stack's driver");
    assert.equal(traced.length, 0, "nothing reached the real stack's trace");
    assert.equal(port!.pool.outstanding, outstanding);
  } finally {
    warmer.close();
    stack.close();
  }
});

Deno.test("shadowPlugins keeps the protocol plugins and a user's hook, never a service", () => {
  const service = testPlugin({ name: "notes", provides: ["notes.write"] });
  const needsService = testPlugin({
    name: "tagger",
    layer: "middlebox",
    requires: ["notes.write"],
  });
  const needsTagger = testPlugin({ name: "late", layer: "transport", dependencies: ["tagger"] });
  const optional = testPlugin({
    name: "maybe",
    layer: "middlebox",
    requires: [{ service: "notes.write", optional: true }],
  });
  const hook = { plugin: blockSource, options: { sources: "198.51.100.0/24" } };
  const list = [...DEFAULT_PLUGINS, hook, service, needsService, needsTagger, optional];
  const kept = shadowPlugins(list);
  assert.deepEqual(
    kept.map(nameOf),
    [...DEFAULT_PLUGINS.map(nameOf).filter((n) => n !== "slaac"), "block_source", "maybe"],
  );
  assert.equal(kept[kept.length - 2], hook, "a plugin's options come along");
});

Deno.test("EchoWarmer runs a user's firewall hook on its echo path, in the shadow's own instance", () => {
  const list = [
    rawIpPlugin,
    ipv4Plugin,
    icmpPlugin,
    ipv6Plugin,
    icmpv6Plugin,
    { plugin: blockSource, options: { sources: "198.51.100.0/24" } },
  ];
  const real = createStack({ clock: new SystemClock(), seed: 4, plugins: list });
  const warmer = new EchoWarmer({ linkType: 101, mtu: 1500 }, 1500, list);
  try {
    for (let i = 0; i < 50; i++) warmer.warm();
    assert.equal(warmer.replies, 100);
    // block_source looks at IPv4 only, and passes the rest too: once per echo.
    assert.equal(warmer.counters()["block_source.passed"], 100);
    assert.equal(real.counters.value("block_source.passed"), 0);
  } finally {
    warmer.close();
    real.close();
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
