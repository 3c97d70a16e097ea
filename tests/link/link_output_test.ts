/**
 * The link output contract (issue 9): the network layer hands (packet,
 * family, next hop) to `ctx.linkOutput`; the dispatcher finds the link
 * output of the interface's link type; Ethernet asks the family's
 * neighbour service (`neighbor.ipv4`, `neighbor.ipv6`) for the MAC.
 */
import assert from "node:assert/strict";
import { checkEthernet, checkIpv4, ip, mac, makeHost, testPlugin } from "../_harness.ts";
import {
  createStack,
  ethernetPlugin,
  ipv4Plugin,
  Ipv4SendFlags,
  type Ipv4Service,
  type LinkDriver,
  type LinkOutput,
  type NeighborResolver,
  neighborServiceName,
  type PacketBuffer,
  type PluginContext,
  PluginDependencyError,
  type Stack,
} from "../../mod.ts";
import { formatMac } from "../../stack/wire/address.ts";
import { IpAddress, type IpKey } from "../../stack/wire/ip_address.ts";

/** A pcap "user" link type (DLT_USER0) no built-in plugin serves. */
const USER_LINK = 147;
const UDP_LITE = 136; // any protocol number: nothing needs to receive it

/** A driver that keeps copies of what it is asked to send. */
function recordingDriver(linkType: number, frames: Uint8Array[]): LinkDriver {
  return {
    linkType,
    mtu: 1500,
    attach() {},
    transmit(pkt: PacketBuffer) {
      frames.push(pkt.data.slice()); // copy: kept after release
      pkt.release();
    },
    close() {},
  };
}

/** Sends `payload` bytes from us to `dst` through ipv4.send; returns its verdict. */
function sendIpv4(stack: Stack, dst: string, flags = 0): string | undefined {
  const pkt = stack.pool.alloc(8);
  pkt.data.fill(0xab);
  return stack.service<Ipv4Service>("ipv4.send")!.send(pkt, 0, ip(dst), UDP_LITE, 0, flags);
}

interface Handed {
  readonly ifindex: number;
  readonly family: number;
  readonly nextHop: IpKey;
  readonly packet: Uint8Array;
}

/**
 * A link plugin for USER_LINK whose frames are a 2-byte header (0xfa, the
 * family) and the packet; it records what the network layer handed it.
 */
function userLink(handed: Handed[]) {
  return testPlugin(
    {
      name: "userlink",
      layer: "link",
      binds: [{ table: "link", key: USER_LINK }],
      exposes: ["ethertype"],
    },
    (ctx) => {
      const linkOutput: LinkOutput = {
        output(iface, family, nextHop, pkt) {
          // copy: kept after the packet is sent
          handed.push({ ifindex: iface.index, family, nextHop, packet: pkt.data.slice() });
          const at = pkt.prepend(2);
          pkt.buf[at] = 0xfa;
          pkt.buf[at + 1] = family;
          ctx.transmit(iface.index, pkt);
        },
      };
      return { receive: () => 0, linkOutput };
    },
  );
}

Deno.test("link output: ipv4 hands the datagram and its next hop to the link type's plugin", () => {
  const handed: Handed[] = [];
  const frames: Uint8Array[] = [];
  const stack = createStack({ plugins: [userLink(handed), ipv4Plugin], strictCounters: true });
  try {
    const iface = stack.addInterface({
      driver: recordingDriver(USER_LINK, frames),
      addresses: ["10.0.0.1/24"],
    });
    stack.addRoute("default", { gateway: "10.0.0.254" });
    assert.equal(sendIpv4(stack, "8.8.8.8"), undefined);
    assert.equal(sendIpv4(stack, "10.0.0.9"), undefined);
    assert.deepEqual(handed.map((h) => [h.ifindex, h.family, h.nextHop]), [
      [iface.index, 4, ip("10.0.0.254")], // off-link: the gateway
      [iface.index, 4, ip("10.0.0.9")], // on-link: the destination itself
    ]);
    // The packet starts at the IPv4 header; the link plugin framed it.
    checkIpv4({ dst: "8.8.8.8", protocol: UDP_LITE })(handed[0]!.packet);
    assert.equal(frames.length, 2);
    assert.deepEqual([...frames[0]!.subarray(0, 2)], [0xfa, 4]);
    assert.deepEqual(frames[0]!.subarray(2), handed[0]!.packet);
    assert.equal(stack.counters.get("ipv4.tx.packets").value, 2);
  } finally {
    stack.close();
  }
});

Deno.test("link output: a link type no plugin serves drops as dispatcher.tx.no_link_output", () => {
  const frames: Uint8Array[] = [];
  // Ethernet loaded (link type 1): its link output does not serve type 147.
  const stack = createStack({ plugins: [ethernetPlugin, ipv4Plugin], strictCounters: true });
  try {
    stack.addInterface({ driver: recordingDriver(USER_LINK, frames), addresses: ["10.0.0.1/24"] });
    const before = stack.pool.outstanding;
    assert.equal(sendIpv4(stack, "10.0.0.9"), undefined);
    assert.equal(frames.length, 0, "nothing reaches the driver");
    assert.equal(stack.counters.get("dispatcher.tx.no_link_output").value, 1);
    assert.equal(stack.pool.outstanding, before, "the packet was released");
    assert.match(stack.graph(), /tun0 <- \(no link output for link type 147\)/);
  } finally {
    stack.close();
  }
});

Deno.test("link output: a plugin with a link output but no link binding fails the boot", () => {
  const bad = testPlugin(
    { name: "nolink", binds: [] },
    () => ({ linkOutput: { output: (_i, _f, _h, p) => p.release() } }),
  );
  assert.throws(() => createStack({ plugins: [bad] }), PluginDependencyError);
});

Deno.test("link output: a throw is the link plugin's fault, not the sender's", () => {
  const broken = testPlugin(
    {
      name: "broken",
      layer: "link",
      binds: [{ table: "link", key: USER_LINK }],
      exposes: ["ethertype"],
    },
    () => ({
      receive: () => 0,
      linkOutput: {
        output(_iface, _family, _hop, pkt) {
          pkt.release();
          throw new Error("link output broke");
        },
      },
    }),
  );
  const stack = createStack({ plugins: [broken, ipv4Plugin] });
  try {
    stack.addInterface({ driver: recordingDriver(USER_LINK, []), addresses: ["10.0.0.1/24"] });
    assert.equal(sendIpv4(stack, "10.0.0.9"), undefined);
    assert.equal(stack.counters.get("broken.fault").value, 1);
    assert.equal(stack.counters.get("ipv4.fault").value, 0);
  } finally {
    stack.close();
  }
});

const STAND_IN_MAC = "02:00:00:00:00:66";

interface Asked {
  readonly ifindex: number;
  readonly nextHop: IpKey;
}

/** A neighbour service for `family` that answers STAND_IN_MAC for every next hop. */
function standInResolver(family: 4 | 6, asked: Asked[]) {
  return testPlugin(
    { name: `standin${family}`, provides: [neighborServiceName(family)] },
    () => {
      const resolver: NeighborResolver = {
        family,
        resolve(ifindex, nextHop) {
          asked.push({ ifindex, nextHop });
          return mac(STAND_IN_MAC);
        },
        onUnresolved() {},
        entries: () => [],
      };
      return { services: { [neighborServiceName(family)]: resolver } };
    },
  );
}

/** A plugin that only keeps its context, so a test can send as a network layer would. */
function sender(): { plugin: ReturnType<typeof testPlugin>; ctx: () => PluginContext } {
  let kept: PluginContext | undefined;
  const plugin = testPlugin({ name: "sender" }, (ctx) => {
    kept = ctx;
    return {};
  });
  return { plugin, ctx: () => kept! };
}

/** A 40-byte IPv6 header (no payload) from fe80::1 to `dst`. */
function ipv6Packet(ctx: PluginContext, dst: string): PacketBuffer {
  const pkt = ctx.pool.alloc(40);
  pkt.data.fill(0);
  pkt.data[0] = 0x60;
  pkt.data[6] = 59; // no next header
  pkt.data[7] = 64;
  pkt.data.set(IpAddress.parse("fe80::1")!.bytes(), 8);
  pkt.data.set(IpAddress.parse(dst)!.bytes(), 24);
  return pkt;
}

Deno.test("neighbours: ethernet asks the family-6 service for a family-6 next hop, not ARP", () => {
  const asked: Asked[] = [];
  const s = sender();
  // No mld or slaac: their reports and solicitations would ask the stand-in too.
  const h = makeHost({
    extraPlugins: [standInResolver(6, asked), s.plugin],
    withoutPlugins: ["mld", "slaac"],
  });
  const hop = IpAddress.parse("fe80::99")!.key;
  s.ctx().linkOutput(h.iface.index, 6, hop, ipv6Packet(s.ctx(), "2001:db8::7"));
  assert.deepEqual(asked, [{ ifindex: h.iface.index, nextHop: hop }]);
  h.net.runFor(0);
  const frames = h.take();
  assert.equal(frames.length, 1);
  checkEthernet({ dst: STAND_IN_MAC, src: h.iface.mac!, etherType: 0x86dd })(
    frames[0]!,
  );
  assert.equal(frames[0]![14]! >> 4, 6, "the IPv6 packet follows the header");
  assert.equal(h.counter("arp.tx.requests"), 0, "no ARP involved");
  assert.equal(h.stack.neighbors().length, 0, "nothing in the ARP cache");
  h.finish();
});

Deno.test("neighbours: without a family-6 service ethernet drops as tx.no_neighbor_service", () => {
  const s = sender();
  // No ndp (the family-6 service), nor mld and slaac whose frames would need it too.
  const h = makeHost({ extraPlugins: [s.plugin], withoutPlugins: ["ndp", "mld", "slaac"] });
  s.ctx().linkOutput(
    h.iface.index,
    6,
    IpAddress.parse("fe80::99")!.key,
    ipv6Packet(s.ctx(), "fe80::99"),
  );
  h.net.runFor(0);
  assert.equal(h.take().length, 0);
  assert.equal(h.counter("ethernet.tx.no_neighbor_service"), 1);
  assert.equal(h.counter("arp.tx.requests"), 0);
  h.finish();
});

Deno.test("neighbours: ethernet takes the IPv4 next hop's MAC from whoever provides neighbor.ipv4", () => {
  const asked: Asked[] = [];
  const frames: Uint8Array[] = [];
  const stack = createStack({
    plugins: [ethernetPlugin, ipv4Plugin, standInResolver(4, asked)],
    strictCounters: true,
  });
  try {
    const iface = stack.addInterface({
      driver: { ...recordingDriver(1, frames), mac: mac("02:00:00:00:00:01") },
      addresses: ["10.0.0.1/24"],
    });
    stack.addRoute("default", { gateway: "10.0.0.254" });
    assert.equal(sendIpv4(stack, "192.0.2.1"), undefined);
    assert.deepEqual(asked, [{ ifindex: iface.index, nextHop: ip("10.0.0.254") }]);
    checkEthernet(
      { dst: STAND_IN_MAC, src: "02:00:00:00:00:01", etherType: 0x0800 },
      checkIpv4({ dst: "192.0.2.1" }),
    )(frames[0]!);
  } finally {
    stack.close();
  }
});

Deno.test("neighbours: ARP's resolver maps broadcast and multicast with no ARP traffic", () => {
  const h = makeHost();
  h.stack.addRoute("default", { gateway: "10.0.0.254" });
  h.take();
  const cases: [string, string][] = [
    ["255.255.255.255", "ff:ff:ff:ff:ff:ff"],
    ["10.0.0.255", "ff:ff:ff:ff:ff:ff"], // directed broadcast of our subnet
    ["224.0.0.251", "01:00:5e:00:00:fb"],
    ["239.255.255.250", "01:00:5e:7f:ff:fa"], // the high bit of the group is dropped
  ];
  for (const [dst, dstMac] of cases) {
    assert.equal(sendIpv4(h.stack, dst, Ipv4SendFlags.BROADCAST), undefined);
    h.net.runFor(0);
    const frames = h.take();
    assert.equal(frames.length, 1, dst);
    checkEthernet({ dst: dstMac, etherType: 0x0800 }, checkIpv4({ dst }))(frames[0]!);
  }
  // Asked directly, with a gateway as next hop, the destination decides.
  const arp = h.stack.service<NeighborResolver>(neighborServiceName(4))!;
  assert.equal(arp.family, 4);
  const pkt = h.stack.pool.alloc(20);
  pkt.data.fill(0);
  pkt.dv.setUint32(pkt.start + 16, ip("10.0.0.255"));
  assert.equal(formatMac(arp.resolve(h.iface.index, ip("10.0.0.254"), pkt)!), "ff:ff:ff:ff:ff:ff");
  pkt.release();
  assert.equal(h.counter("arp.tx.requests"), 0);
  assert.equal(h.stack.neighbors().length, 0);
  // A unicast destination is resolved: one request, the packet queued.
  assert.equal(sendIpv4(h.stack, "10.0.0.9"), undefined);
  assert.equal(h.counter("arp.tx.requests"), 1);
  assert.equal(h.stack.neighbors()[0]!.queued, 1);
  h.finish();
});
