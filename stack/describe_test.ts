import assert from "node:assert/strict";
import {
  arpPlugin,
  createStack,
  ethernetPlugin,
  icmpPlugin,
  ipv4Plugin,
  LINKTYPE_RAW,
  VirtualNetwork,
} from "../mod.ts";
import { formatGraph } from "./describe.ts";
import { Dispatcher, type StackDescription } from "./dispatcher.ts";
import type { DriverPort, LinkDriver } from "./driver.ts";
import { ACCEPT, CONSUMED, type ProtocolPlugin } from "./manifest.ts";
import type { PacketBuffer } from "./packet.ts";

class NullDriver implements LinkDriver {
  readonly mtu = 1500;
  readonly linkType: number;
  constructor(linkType: number) {
    this.linkType = linkType;
  }
  attach(_port: DriverPort): void {}
  transmit(pkt: PacketBuffer): void {
    pkt.release();
  }
  close(): void {}
}

function defaultStack() {
  const net = new VirtualNetwork({ seed: 3 });
  const stack = createStack({ clock: net.clock, seed: 1, name: "host" });
  stack.addInterface({ driver: net.link().a, addresses: ["10.0.0.1/24"] });
  stack.addInterface({
    driver: net.link({ linkType: LINKTYPE_RAW }).a,
    addresses: ["10.9.0.1/30"],
  });
  return {
    stack,
    [Symbol.dispose]() {
      stack.close();
      net.close();
    },
  };
}

Deno.test("describe() lists the default plugins in boot order with their manifests", () => {
  using env = defaultStack();
  const d = env.stack.describe();
  assert.equal(d.name, "host");
  // The defaults grow (udp, tcp, …): check the core ones and their relative order.
  const names = d.plugins.map((p) => p.name).filter((n) =>
    ["ethernet", "rawip", "arp", "ipv4", "icmp"].includes(n)
  );
  assert.deepEqual(names, ["ethernet", "rawip", "arp", "ipv4", "icmp"]);
  const ipv4 = d.plugins.find((p) => p.name === "ipv4")!;
  assert.deepEqual(ipv4.binds, [{ table: "ethertype", key: 0x0800 }]);
  assert.deepEqual(ipv4.exposes, ["ip.protocol"]);
  assert.ok(ipv4.provides.includes("ipv4.send"));
  assert.ok(ipv4.requires.some((r) => r.service === "neighbor.ipv4" && r.optional));
  assert.ok(ipv4.counters.includes("ipv4.rx.bad_checksum"));
  assert.equal(ipv4.quarantined, false);
  assert.equal(ipv4.faults, 0);
});

Deno.test("describe() lists tables with their entries sorted by key", () => {
  using env = defaultStack();
  const tables = Object.fromEntries(env.stack.describe().tables.map((t) => [t.name, t.entries]));
  assert.deepEqual(tables["link"], [
    { key: 1, plugin: "ethernet" },
    { key: 101, plugin: "rawip" },
    { key: 228, plugin: "rawip" },
    { key: 229, plugin: "rawip" },
  ]);
  const ethertype = tables["ethertype"]!;
  assert.deepEqual(ethertype.filter((e) => e.key === 0x0800 || e.key === 0x0806), [
    { key: 0x0800, plugin: "ipv4" },
    { key: 0x0806, plugin: "arp" },
  ]);
  assert.deepEqual(ethertype.map((e) => e.key), ethertype.map((e) => e.key).sort((a, b) => a - b));
  assert.deepEqual(tables["ip.protocol"]![0], { key: 1, plugin: "icmp", family: 4 });
});

Deno.test("describe() lists interfaces with link type, MTU, state and addresses", () => {
  using env = defaultStack();
  env.stack.setLinkUp("tun1", false);
  assert.deepEqual(env.stack.describe().interfaces, [
    { index: 0, name: "eth0", linkType: 1, mtu: 1500, up: true, addresses: ["10.0.0.1/24"] },
    { index: 1, name: "tun1", linkType: 101, mtu: 1500, up: false, addresses: ["10.9.0.1/30"] },
  ]);
});

Deno.test("describe() has a chain for every hook point", () => {
  using env = defaultStack();
  const hooks = env.stack.describe().hooks;
  assert.deepEqual(Object.keys(hooks), [
    "ingress",
    "prerouting",
    "input",
    "forward",
    "output",
    "postrouting",
    "egress",
  ]);
  assert.ok(Object.values(hooks).every((c) => Array.isArray(c)));
});

Deno.test("formatGraph() prints the default data path Click-style", () => {
  using env = defaultStack();
  const lines = env.stack.graph().split("\n");
  // A path goes on while the last plugin exposes a table with entries (with
  // UDP loaded, ICMP hands errors on through ip.error), so match prefixes.
  const has = (path: string) =>
    lines.some((l) => l === path || l.startsWith(`${path} -[`)) || assert.fail(`no "${path}"`);
  has("eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp");
  has("tun1 -> rawip -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp");
  assert.ok(lines.includes("eth0 -> ethernet -[ethertype 0x0806]-> arp"));
  assert.ok(lines.includes("service icmp.echo <- icmp"));
  assert.equal(env.stack.graph(), formatGraph(env.stack.describe()));
});

Deno.test("formatGraph() draws ICMP only below IPv4 and ICMPv6 only below IPv6 (one shared ip.protocol table)", () => {
  using env = defaultStack();
  const lines = env.stack.graph().split("\n");
  const v4 = lines.filter((l) => l.includes("ipv4 -[ip.protocol"));
  const v6 = lines.filter((l) => l.includes("ipv6 -[ip.protocol"));
  assert.ok(v4.some((l) => l.includes("-[ip.protocol 1]-> icmp")), lines.join("\n"));
  assert.ok(v6.some((l) => l.includes("-[ip.protocol 58]-> icmpv6")), lines.join("\n"));
  assert.deepEqual(v4.filter((l) => l.includes("icmpv6")), [], "no ipv4 -> icmpv6");
  assert.deepEqual(v6.filter((l) => / icmp( |$)/.test(l)), [], "no ipv6 -> icmp");
  // TCP and UDP take both families, and both ICMPs hand them errors.
  for (const [ip, icmp] of [["ipv4", "icmp"], ["ipv6", "icmpv6"]]) {
    for (const t of ["-[ip.protocol 6]-> tcp", "-[ip.protocol 17]-> udp"]) {
      assert.ok(
        lines.includes(
          `eth0 -> ethernet -[ethertype ${ip === "ipv4" ? "0x0800" : "0x86dd"}]-> ${ip} ${t}`,
        ),
      );
    }
    assert.ok(
      lines.some((l) =>
        l.includes(`${ip} -[ip.protocol ${ip === "ipv4" ? 1 : 58}]-> ${icmp} -[ip.error 6]-> tcp`)
      ),
    );
  }
  const d = env.stack.describe();
  const entry = (key: number) =>
    d.tables.find((t) => t.name === "ip.protocol")!.entries.find((e) => e.key === key);
  assert.equal(entry(1)?.family, 4);
  assert.equal(entry(58)?.family, 6);
  assert.equal(entry(6)?.family, undefined);
  assert.equal(d.plugins.find((p) => p.name === "ipv6")?.family, 6);
});

Deno.test("a manifest family other than 4 or 6, on the plugin or a binding, is a manifest error", () => {
  const base = {
    name: "fam",
    version: "1.0.0",
    api: "^1.0.0",
    description: "",
    layer: "network",
    binds: [],
    counters: [],
  };
  const boot = (m: object) => () =>
    createStack({ plugins: [{ manifest: m, setup: () => ({}) } as unknown as ProtocolPlugin] });
  assert.throws(boot({ ...base, family: 5 }), /family must be 4 or 6/);
  assert.throws(
    boot({ ...base, binds: [{ table: "ip.protocol", key: 200, family: "6" }] }),
    /family must be 4 or 6/,
  );
});

Deno.test("formatGraph() of Ethernet, ARP, IPv4 and ICMP has one line per leaf", () => {
  const stack = createStack({ plugins: [ethernetPlugin, arpPlugin, ipv4Plugin, icmpPlugin] });
  const net = new VirtualNetwork();
  try {
    stack.addInterface({ driver: net.link().a });
    assert.equal(
      stack.graph(),
      [
        "eth0 -> ethernet -[ethertype 0x0800]-> ipv4 -[ip.protocol 1]-> icmp",
        "eth0 -> ethernet -[ethertype 0x0806]-> arp",
        "eth0 <- ethernet (link output; neighbor.ipv4 <- arp)",
        "service ethernet.send <- ethernet",
        "service arp.resolve <- arp",
        "service neighbor.ipv4 <- arp",
        ...ipv4Plugin.manifest.provides!.map((s) => `service ${s} <- ipv4`),
        ...icmpPlugin.manifest.provides!.map((s) => `service ${s} <- icmp`),
      ].join("\n"),
    );
  } finally {
    stack.close();
    net.close();
  }
});

Deno.test("formatGraph() shows hook chains in order, down links and quarantined plugins", () => {
  const mk = (name: string, extra: object, handlers: object): ProtocolPlugin => ({
    manifest: {
      name,
      version: "1.0.0",
      api: "^1.0.0",
      description: name,
      layer: "middlebox",
      binds: [],
      counters: [],
      ...extra,
    },
    setup: () => handlers,
  });
  const d = new Dispatcher({
    faultLimit: 1,
    plugins: [
      mk("l2", { binds: [{ table: "link", key: 1 }], exposes: ["proto"] }, {
        receive: () => CONSUMED,
      }),
      mk("nat", { hooks: [{ point: "prerouting", after: ["ct"] }] }, { hook: () => ACCEPT }),
      mk("ct", { hooks: [{ point: "prerouting" }] }, {
        hook: () => {
          throw new Error("ct broke");
        },
      }),
    ],
  });
  d.addInterface({ driver: new NullDriver(1), name: "lan" });
  d.addInterface({ driver: new NullDriver(228), name: "wan" });
  d.setLinkUp("lan", false);
  const pkt = d.pool.alloc(1);
  assert.equal(d.runHooks("prerouting", pkt), "fault");
  pkt.release();
  assert.equal(d.isQuarantined("ct"), true);
  assert.deepEqual(formatGraph(d.describe()).split("\n"), [
    "lan (down) -> l2",
    "wan -> (no plugin for link type 228)",
    "lan <- (no link output for link type 1)",
    "wan <- (no link output for link type 228)",
    "hook prerouting: ct -> nat",
    "quarantined ct",
  ]);
});

/**
 * A description with one interface, eth0 on link type 1, and `plugins` (a
 * name and the tables each exposes; every other field empty) bound as
 * `tables` says.
 */
function graphOf(
  plugins: readonly { name: string; exposes: string[] }[],
  tables: StackDescription["tables"],
): StackDescription {
  return {
    name: "x",
    counters: {},
    hooks: {},
    interfaces: [{ index: 0, name: "eth0", linkType: 1, mtu: 1500, up: true, addresses: [] }],
    plugins: plugins.map((p) => ({
      ...p,
      version: "1.0.0",
      layer: "network",
      description: "",
      binds: [],
      provides: [],
      requires: [],
      hooks: [],
      counters: [],
      quarantined: false,
      faults: 0,
    })),
    tables,
  };
}

Deno.test("formatGraph() prints ethertype keys in hex and other keys in decimal", () => {
  const d = graphOf([
    { name: "ethernet", exposes: ["ethertype"] },
    { name: "ipv6", exposes: ["ip.protocol"] },
    { name: "udp", exposes: ["udp.port"] },
    { name: "dns", exposes: [] },
  ], [
    { name: "link", entries: [{ key: 1, plugin: "ethernet" }] },
    { name: "ethertype", entries: [{ key: 0x86dd, plugin: "ipv6" }] },
    { name: "ip.protocol", entries: [{ key: 17, plugin: "udp" }] },
    { name: "udp.port", entries: [{ key: 53, plugin: "dns" }] },
  ]);
  assert.equal(
    formatGraph(d),
    "eth0 -> ethernet -[ethertype 0x86dd]-> ipv6 -[ip.protocol 17]-> udp -[udp.port 53]-> dns",
  );
});

Deno.test("formatGraph() stops at a plugin already on the path (no infinite walk)", () => {
  const d = graphOf([
    { name: "ethernet", exposes: ["ethertype"] },
    { name: "tunnel", exposes: ["ethertype"] }, // decapsulates back into ethertype
  ], [
    { name: "link", entries: [{ key: 1, plugin: "ethernet" }] },
    { name: "ethertype", entries: [{ key: 0x6558, plugin: "tunnel" }] },
  ]);
  assert.equal(formatGraph(d), "eth0 -> ethernet -[ethertype 0x6558]-> tunnel");
});
