import assert from "node:assert/strict";
import {
  arpPacket,
  checkArp,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  ethernetFrame,
  framesMatching,
  type Host,
  type HostOptions,
  icmpEcho,
  type Ipv4Fields,
  ipv4Packet,
  makeHost,
  makeLan,
  ms,
  PacketFlags,
  pcapRecords,
  type Probe,
  probePlugin,
  track,
  withEnv,
} from "../../../tests/_harness.ts";
import { ACCEPT, type ProtocolPlugin } from "../../manifest.ts";
import { createStack, VirtualNetwork } from "../../../mod.ts";

const US = "02:00:00:00:00:01";
const PEER = "02:00:00:00:00:99";
const BROADCAST = "ff:ff:ff:ff:ff:ff";
/** "Use for experimentation and testing" (RFC 3692): claimed by the probe. */
const EXPERIMENTAL = 253;
const PAYLOAD = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

function host(options: HostOptions = {}): { h: Host; probe: Probe } {
  const probe = probePlugin([{ table: "ip.protocol", key: EXPERIMENTAL }]);
  const h = makeHost({
    mac: US,
    addresses: ["10.0.0.1/24"],
    ...options,
    extraPlugins: [probe.plugin],
  });
  return { h, probe };
}

/** An IPv4 packet from 10.0.0.9 in an Ethernet frame to us. */
function frame(
  fields: Partial<Ipv4Fields> = {},
  payload: Uint8Array = PAYLOAD,
  dstMac = US,
): Uint8Array {
  return ethernetFrame(
    { dst: dstMac, src: PEER, etherType: 0x0800 },
    ipv4Packet(
      { src: "10.0.0.9", dst: "10.0.0.1", protocol: EXPERIMENTAL, ...fields },
      payload,
    ),
  );
}

/** Lets the stack learn PEER as 10.0.0.9 (so replies need no resolution). */
function learnPeer(h: Host, ip = "10.0.0.9"): void {
  h.inject(
    ethernetFrame(
      { dst: BROADCAST, src: PEER, etherType: 0x0806 },
      arpPacket({ operation: 1, senderMac: PEER, senderIp: ip, targetIp: "10.0.0.1" }),
    ),
  );
}

// ---- validation -------------------------------------------------------------------------

Deno.test("ipv4 delivers a valid packet by protocol with its addresses and TTL", () => {
  const { h, probe } = host();
  h.inject(frame({ ttl: 17 }));
  assert.equal(probe.seen.length, 1);
  const s = probe.seen[0]!;
  assert.deepEqual(s.data, PAYLOAD);
  assert.deepEqual([s.src, s.dst, s.ttl, s.flags], ["10.0.0.9", "10.0.0.1", 17, 0]);
  assert.equal(h.counter("ipv4.rx.delivered"), 1);
  h.finish();
});

Deno.test("ipv4 drops every truncated prefix of a header as rx.truncated", () => {
  const { h, probe } = host();
  const ip = ipv4Packet({ src: "10.0.0.9", dst: "10.0.0.1", protocol: EXPERIMENTAL }, PAYLOAD);
  for (let n = 0; n < 20; n++) {
    h.inject(ethernetFrame({ dst: US, src: PEER, etherType: 0x0800 }, ip.subarray(0, n)));
  }
  assert.equal(h.counter("ipv4.rx.truncated"), 20);
  // IHL says 24 bytes, 20 are there.
  const short = ipv4Packet(
    { src: "10.0.0.9", dst: "10.0.0.1", protocol: EXPERIMENTAL, ihl: 6, totalLength: 20 },
    new Uint8Array(0),
  );
  h.inject(ethernetFrame({ dst: US, src: PEER, etherType: 0x0800 }, short));
  assert.equal(h.counter("ipv4.rx.truncated"), 21);
  assert.equal(probe.seen.length, 0);
  h.finish();
});

Deno.test("ipv4 drops a version other than 4 as rx.bad_version", () => {
  const { h, probe } = host();
  h.inject(frame({ version: 6 }));
  h.inject(frame({ version: 5 }));
  assert.equal(h.counter("ipv4.rx.bad_version"), 2);
  assert.equal(probe.seen.length, 0);
  h.finish();
});

Deno.test("ipv4 drops an IHL below 5 as rx.bad_header_length", () => {
  const { h, probe } = host();
  for (let ihl = 0; ihl < 5; ihl++) h.inject(frame({ ihl }));
  assert.equal(h.counter("ipv4.rx.bad_header_length"), 5);
  assert.equal(probe.seen.length, 0);
  h.finish();
});

Deno.test("ipv4 drops a total length below the header or beyond the data as rx.bad_total_length", () => {
  const { h, probe } = host();
  h.inject(frame({ totalLength: 19 }));
  h.inject(frame({ totalLength: 0 }));
  h.inject(frame({ totalLength: 20 + PAYLOAD.length + 1 }));
  h.inject(frame({ totalLength: 0xffff }));
  assert.equal(h.counter("ipv4.rx.bad_total_length"), 4);
  assert.equal(probe.seen.length, 0);
  h.finish();
});

Deno.test({
  name: "ipv4 drops the packet of ipv4_invalid_total_length.pcap as rx.bad_total_length",
  fn() {
    const [rec] = pcapRecords("ipv4_invalid_total_length.pcap");
    const h = makeHost({ mac: "c0:d6:82:36:03:2b", addresses: ["33.127.156.152/24"] });
    assert.deepEqual(h.inject(rec!.data), []);
    assert.equal(h.counter("ipv4.rx.bad_total_length"), 1);
    assert.equal(h.counter("ipv4.rx.delivered"), 0);
    h.finish();
  },
});

Deno.test("ipv4 drops a bad header checksum as rx.bad_checksum", () => {
  const { h, probe } = host();
  const good = frame();
  const bad = good.slice();
  bad[14 + 10]! ^= 0x01;
  h.inject(bad);
  assert.equal(h.counter("ipv4.rx.bad_checksum"), 1);
  assert.equal(probe.seen.length, 0);
  h.inject(good);
  assert.equal(probe.seen.length, 1);
  h.finish();
});

Deno.test("ipv4 with verifyChecksum: false accepts a bad header checksum", () => {
  const { h, probe } = host({ plugins: { ipv4: { verifyChecksum: false } } });
  h.inject(frame({ checksum: 0x1234 }));
  assert.equal(probe.seen.length, 1);
  h.finish();
});

Deno.test("ipv4 drops a multicast, broadcast or loopback source as rx.bad_source", () => {
  const { h, probe } = host();
  for (const src of ["224.0.0.5", "239.1.2.3", "255.255.255.255", "127.0.0.1", "127.9.9.9"]) {
    h.inject(frame({ src }));
  }
  assert.equal(h.counter("ipv4.rx.bad_source"), 5);
  assert.equal(probe.seen.length, 0);
  h.finish();
});

Deno.test("ipv4 skips options: IHL 6..15 delivers the payload after them", () => {
  const { h, probe } = host();
  for (let ihl = 6; ihl <= 15; ihl++) {
    // Router Alert (RFC 2113), then NOPs up to the header length.
    const options = new Uint8Array((ihl - 5) * 4).fill(1);
    options.set([148, 4, 0, 0]);
    h.inject(frame({ options }));
  }
  assert.equal(probe.seen.length, 10);
  for (const s of probe.seen) assert.deepEqual(s.data, PAYLOAD);
  h.finish();
});

Deno.test("ipv4 answers an echo request carrying options, without options in the reply", () => {
  const { h } = host();
  learnPeer(h);
  const echo = icmpEcho({ identifier: 9, sequence: 1 });
  const out = h.inject(frame({ protocol: 1, options: new Uint8Array([1, 1, 1, 0]) }, echo));
  assert.equal(out.length, 1);
  checkEthernet(
    { dst: PEER },
    checkIpv4({ src: "10.0.0.1", dst: "10.0.0.9", headerLength: 20 }, checkIcmp({ type: 0 })),
  )(out[0]!);
  h.finish();
});

Deno.test("ipv4 trims Ethernet padding by the total length", () => {
  const { h, probe } = host();
  const ip = ipv4Packet({ src: "10.0.0.9", dst: "10.0.0.1", protocol: EXPERIMENTAL }, PAYLOAD);
  const padded = new Uint8Array(60).fill(0xaa);
  padded.set(ethernetFrame({ dst: US, src: PEER, etherType: 0x0800 }, ip));
  h.inject(padded);
  assert.deepEqual(probe.seen[0]!.data, PAYLOAD);
  // An echo request whose checksum only holds without the 0xaa padding is answered.
  learnPeer(h);
  const echo = ipv4Packet(
    { src: "10.0.0.9", dst: "10.0.0.1", protocol: 1 },
    icmpEcho({ identifier: 1, sequence: 1, data: new Uint8Array(1) }),
  );
  const f = new Uint8Array(60).fill(0xaa);
  f.set(ethernetFrame({ dst: US, src: PEER, etherType: 0x0800 }, echo));
  const out = h.inject(f);
  checkEthernet({}, checkIpv4({}, checkIcmp({ type: 0, data: new Uint8Array(1) })))(out[0]!);
  h.finish();
});

Deno.test("ipv4 delivers directed and limited broadcast, flagged NET_BROADCAST", () => {
  const { h, probe } = host();
  h.inject(frame({ dst: "10.0.0.255" }, PAYLOAD, BROADCAST));
  h.inject(frame({ dst: "255.255.255.255" }, PAYLOAD, BROADCAST));
  assert.deepEqual(probe.seen.map((s) => s.dst), ["10.0.0.255", "255.255.255.255"]);
  for (const s of probe.seen) {
    assert.equal(s.flags, PacketFlags.NET_BROADCAST | PacketFlags.LINK_BROADCAST);
  }
  h.finish();
});

Deno.test("ipv4 delivers 224.0.0.1 (all systems), flagged NET_MULTICAST; other groups are not ours", () => {
  const { h, probe } = host();
  h.iface.allMulticast = true; // past the link's multicast filter: this is ipv4's decision
  h.inject(frame({ dst: "224.0.0.1" }, PAYLOAD, "01:00:5e:00:00:01"));
  h.inject(frame({ dst: "224.0.0.251" }, PAYLOAD, "01:00:5e:00:00:fb"));
  assert.deepEqual(probe.seen.map((s) => s.dst), ["224.0.0.1"]);
  assert.equal(probe.seen[0]!.flags, PacketFlags.NET_MULTICAST | PacketFlags.LINK_MULTICAST);
  assert.equal(h.counter("ipv4.rx.not_for_us"), 1);
  h.finish();
});

Deno.test("ipv4 drops unicast for another address as rx.not_for_us", () => {
  const { h, probe } = host();
  h.inject(frame({ dst: "10.0.0.77" }));
  h.inject(frame({ dst: "8.8.8.8" }));
  assert.equal(h.counter("ipv4.rx.not_for_us"), 2);
  assert.equal(probe.seen.length, 0);
  h.finish();
});

// ---- sending -------------------------------------------------------------------------------

Deno.test("ipv4 sends with the default TTL 64, a ping's ttl option, or the ttl plugin option", async () => {
  for (
    const [options, ping, want] of [
      [{}, {}, 64],
      [{}, { ttl: 7 }, 7],
      [{ ipv4: { ttl: 99 } }, {}, 99],
    ] as const
  ) {
    const { h } = host({ plugins: options });
    learnPeer(h);
    const p = track(h.stack.ping("10.0.0.9", { timeout: 1, ...ping }));
    h.runFor(ms(1));
    const [echo] = h.take();
    checkEthernet(
      { dst: PEER, src: US, etherType: 0x0800 },
      checkIpv4(
        { src: "10.0.0.1", dst: "10.0.0.9", ttl: want, protocol: 1, dontFragment: false },
        checkIcmp({ type: 8 }),
      ),
    )(echo!);
    await p.done;
    h.finish();
  }
});

Deno.test("ipv4 sets DF when asked and numbers packets with fresh identifications", async () => {
  const { h } = host();
  learnPeer(h);
  const p = track(h.stack.ping("10.0.0.9", { timeout: 1, dontFragment: true }));
  const q = track(h.stack.ping("10.0.0.9", { timeout: 1 }));
  h.runFor(ms(1));
  const [a, b] = h.take();
  checkEthernet({}, checkIpv4({ dontFragment: true }))(a!);
  checkEthernet({}, checkIpv4({ dontFragment: false }))(b!);
  const id = (f: Uint8Array) => (f[18]! << 8) | f[19]!;
  assert.equal(id(b!), (id(a!) + 1) & 0xffff);
  await p.done;
  await q.done;
  h.finish();
});

Deno.test("ipv4 adds a connected route for each address", () => {
  const { h } = host({ addresses: ["10.0.0.1/24", "192.168.50.7/16"] });
  // IPv4's only: the link-local IPv6 address slaac added has its fe80::/64 route from the start.
  const v4 = () => h.stack.routes().filter((r) => r.family === 4);
  assert.deepEqual(v4(), [
    {
      destination: "10.0.0.0/24",
      interface: "eth0",
      metric: 0,
      source: "10.0.0.1",
      origin: "connected",
      family: 4,
    },
    {
      destination: "192.168.0.0/16",
      interface: "eth0",
      metric: 0,
      source: "192.168.50.7",
      origin: "connected",
      family: 4,
    },
  ]);
  h.stack.removeAddress("eth0", "192.168.50.7");
  assert.deepEqual(v4().map((r) => r.destination), ["10.0.0.0/24"]);
  h.finish();
});

Deno.test("ipv4 keeps a user's on-link route for a connected prefix across address changes", () => {
  const { h } = host({ addresses: ["10.0.0.1/24"] });
  const s = h.stack;
  s.addRoute("10.0.0.0/24", { interface: "eth0", metric: 100 });
  const v4 = () =>
    s.routes().filter((r) => r.family === 4).map((r) => `${r.destination} ${r.origin} ${r.metric}`);
  assert.deepEqual(v4(), ["10.0.0.0/24 connected 0", "10.0.0.0/24 static 100"]);
  // Each address change rebuilds the prefix's connected route, and only it (Linux's fib_add_ifaddr / fib_del_ifaddr).
  s.addAddress("eth0", "10.0.0.5/24");
  assert.deepEqual(v4(), ["10.0.0.0/24 connected 0", "10.0.0.0/24 static 100"]);
  s.removeAddress("eth0", "10.0.0.1");
  s.removeAddress("eth0", "10.0.0.5");
  assert.deepEqual(v4(), ["10.0.0.0/24 static 100"]);
  h.finish();
});

Deno.test("ipv4 routeGet: longest prefix wins, then the lowest metric; default route last", () => {
  const { h } = host();
  const s = h.stack;
  s.addRoute("default", { gateway: "10.0.0.254" });
  s.addRoute("10.1.0.0/16", { gateway: "10.0.0.2" });
  s.addRoute("10.1.2.0/24", { gateway: "10.0.0.3", metric: 10 });
  s.addRoute("10.1.2.0/24", { gateway: "10.0.0.4", metric: 5 });
  assert.equal(s.routeGet("10.1.2.3")?.gateway, "10.0.0.4");
  assert.equal(s.routeGet("10.1.2.3")?.nextHop, "10.0.0.4");
  assert.equal(s.routeGet("10.1.9.9")?.gateway, "10.0.0.2");
  assert.equal(s.routeGet("8.8.8.8")?.gateway, "10.0.0.254");
  assert.equal(s.routeGet("8.8.8.8")?.destination, "default");
  assert.equal(s.routeGet("10.0.0.77")?.gateway, undefined);
  assert.equal(s.routeGet("10.0.0.77")?.nextHop, "10.0.0.77");
  assert.equal(s.routeGet("10.0.0.77")?.source, "10.0.0.1");
  assert.equal(s.routeGet("10.0.0.77")?.mtu, 1500);
  assert.equal(s.deleteRoute("10.1.2.0/24", "10.0.0.4"), 1);
  assert.equal(s.routeGet("10.1.2.3")?.gateway, "10.0.0.3");
  assert.equal(s.deleteRoute("default"), 1);
  assert.equal(s.routeGet("8.8.8.8"), undefined);
  h.finish();
});

Deno.test("ipv4 refuses a route via a gateway that is not on a connected network", () => {
  const { h } = host();
  assert.throws(
    () => h.stack.addRoute("172.16.0.0/12", { gateway: "192.168.1.1" }),
    Deno.errors.NetworkUnreachable,
  );
  h.finish();
});

Deno.test("ipv4 sends to a static route's gateway: ARP for the gateway, frame to its MAC", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 3, capture: { hosts: [0] } }), async (lan) => {
    const [h1] = lan.hosts;
    h1!.addRoute("192.168.5.0/24", { gateway: "10.0.0.2" });
    await assert.rejects(
      lan.run(() => h1!.ping("192.168.5.5", { timeout: 200 })),
      Deno.errors.TimedOut,
    );
    const frames = lan.capture!.frames();
    // h1 resolved the gateway, never the destination.
    assert.equal(
      framesMatching(
        frames,
        checkEthernet({ src: lan.macs[0]! }, checkArp({ operation: 1, targetIp: "10.0.0.2" })),
      ).length,
      1,
    );
    assert.equal(
      framesMatching(frames, checkEthernet({}, checkArp({ targetIp: "192.168.5.5" }))).length,
      0,
    );
    const echo = framesMatching(
      frames,
      checkEthernet({ etherType: 0x0800 }, checkIpv4({}, checkIcmp({ type: 8 }))),
    );
    assert.equal(echo.length, 1);
    checkEthernet(
      { dst: lan.macs[1]!, src: lan.macs[0]! },
      checkIpv4({ src: "10.0.0.1", dst: "192.168.5.5" }),
    )(echo[0]!);
  });
});

Deno.test("ipv4 uses the default route when nothing more specific matches", async () => {
  await withEnv(makeLan({ hosts: 2, seed: 4, capture: { hosts: [0] } }), async (lan) => {
    lan.hosts[0]!.addRoute("default", { gateway: "10.0.0.2" });
    await assert.rejects(
      lan.run(() => lan.hosts[0]!.ping("93.184.216.34", { timeout: 100 })),
      Deno.errors.TimedOut,
    );
    const echo = framesMatching(
      lan.capture!.frames(),
      checkEthernet({ dst: lan.macs[1]! }, checkIpv4({ dst: "93.184.216.34" })),
    );
    assert.equal(echo.length, 1);
  });
});

Deno.test("ipv4 with no route: ping rejects with NetworkUnreachable and nothing is sent", async () => {
  const { h } = host();
  h.take();
  await assert.rejects(h.run(() => h.stack.ping("8.8.8.8")), Deno.errors.NetworkUnreachable);
  assert.deepEqual(h.take(), []);
  assert.equal(h.counter("ipv4.tx.no_route"), 1);
  h.finish();
});

Deno.test("ipv4 refuses to send to the limited broadcast address without the BROADCAST flag", async () => {
  const { h } = host();
  await assert.rejects(
    h.run(() => h.stack.ping("255.255.255.255")),
    Deno.errors.PermissionDenied, // EACCES, as Linux's ping without -b and a datagram socket's send
  );
  await assert.rejects(h.run(() => h.stack.ping("10.0.0.255")), Deno.errors.PermissionDenied);
  assert.equal(h.counter("ipv4.tx.broadcast_not_permitted"), 2);
  assert.deepEqual(h.take(), []);
  h.finish();
});

Deno.test("ipv4 delivers to its own address locally: ping self answers in no time, off the wire", async () => {
  const { h } = host();
  const r = await h.run(() => h.stack.ping("10.0.0.1"));
  assert.deepEqual([r.from, r.rtt, r.ttl], ["10.0.0.1", 0, 64]);
  assert.deepEqual(h.take(), []);
  assert.equal(h.counter("ipv4.tx.loopback"), 2);
  h.finish();
});

Deno.test("ipv4 delivers 127.0.0.1 locally: ping localhost answers, off the wire", async () => {
  const { h } = host();
  const r = await h.run(() => h.stack.ping("127.0.0.1"));
  assert.deepEqual([r.from, r.rtt], ["127.0.0.1", 0]);
  assert.deepEqual(h.take(), []);
  h.finish();
});

Deno.test("ipv4 releases a packet an output hook drops", async () => {
  const dropper: ProtocolPlugin = {
    manifest: {
      name: "dropper",
      version: "1.0.0",
      api: "^1.0.0",
      description: "drops every ICMP packet at output",
      layer: "middlebox",
      binds: [],
      hooks: [{ point: "output" }],
      counters: ["output.dropped"],
    },
    setup() {
      return { hook: (_point, pkt) => (pkt.proto === 1 ? "dropped" : ACCEPT) };
    },
  };
  const h = makeHost({ extraPlugins: [dropper] });
  learnPeer(h, "10.0.0.9");
  await assert.rejects(h.run(() => h.stack.ping("10.0.0.9")));
  assert.equal(h.counter("dropper.output.dropped"), 1);
  h.finish(); // fails if the dropped packet leaked
});

Deno.test("ipv4 connected route keeps the first address of a prefix as its source", () => {
  const stack = createStack({ seed: 1 });
  const net = new VirtualNetwork({ seed: 1 });
  stack.addInterface({
    name: "eth0",
    driver: net.link().a,
    addresses: ["10.0.0.2/24", "10.0.0.3/24"],
  });
  assert.equal(stack.routeGet("10.0.0.9")?.source, "10.0.0.2");
  stack.removeAddress("eth0", "10.0.0.2/24");
  assert.equal(stack.routeGet("10.0.0.9")?.source, "10.0.0.3");
  stack.removeAddress("eth0", "10.0.0.3/24");
  assert.equal(stack.routeGet("10.0.0.9"), undefined);
  stack.close();
  net.close();
});
