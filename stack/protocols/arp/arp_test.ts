import assert from "node:assert/strict";
import type { ArpService } from "../../services.ts";
import {
  type ArpFields,
  arpPacket,
  checkArp,
  checkEthernet,
  checkIcmp,
  checkIpv4,
  ethernetFrame,
  framesMatching,
  hex,
  type Host,
  type HostOptions,
  icmpEcho,
  ipv4Packet,
  makeHost,
  ms,
  pcapRecords,
  track,
} from "../../../tests/_harness.ts";

const US = "02:00:00:00:00:01";
const PEER = "02:00:00:00:00:99";
const OTHER = "02:00:00:00:00:42";
const BROADCAST = "ff:ff:ff:ff:ff:ff";
const ZERO_MAC = "00:00:00:00:00:00";
const SECOND = 1_000_000;

function host(options: HostOptions = {}): Host {
  // ARP and IPv4 frames only: IPv6's DAD, RS and MLD reports are not under test here.
  return makeHost({
    mac: US,
    addresses: ["10.0.0.1/24"],
    etherTypes: [0x0806, 0x0800],
    ...options,
  });
}

function arpFrame(a: ArpFields, dst = BROADCAST, src?: string): Uint8Array {
  const s = src ?? (typeof a.senderMac === "string" ? a.senderMac : PEER);
  return ethernetFrame({ dst, src: s, etherType: 0x0806 }, arpPacket(a));
}

/** An ARP request from PEER (10.0.0.9) for `target`. */
function request(target = "10.0.0.1", senderMac = PEER, senderIp = "10.0.0.9"): Uint8Array {
  return arpFrame({ operation: 1, senderMac, senderIp, targetIp: target });
}

/** An ARP reply from PEER (10.0.0.9) to us. */
function reply(senderMac = PEER, senderIp = "10.0.0.9"): Uint8Array {
  return arpFrame(
    { operation: 2, senderMac, senderIp, targetMac: US, targetIp: "10.0.0.1" },
    US,
    senderMac,
  );
}

function neighbor(h: Host, address: string) {
  return h.stack.neighbors().find((n) => n.address === address);
}

const isArpRequest = (targetIp: string, dst = BROADCAST) =>
  checkEthernet({ dst, etherType: 0x0806 }, checkArp({ operation: 1, targetIp }));
const isEchoRequest = (dst: string, sequence?: number) =>
  checkEthernet(
    { dst, etherType: 0x0800 },
    checkIpv4(
      { protocol: 1 },
      checkIcmp({ type: 8, ...(sequence !== undefined ? { sequence } : {}) }),
    ),
  );

// ---- requests and replies -------------------------------------------------------------

Deno.test("arp answers a request for its address with a unicast reply (RFC 826)", () => {
  const h = host();
  const out = h.inject(request());
  assert.equal(out.length, 1);
  checkEthernet(
    { dst: PEER, src: US, etherType: 0x0806, length: 60 },
    checkArp({
      operation: 2,
      senderMac: US,
      senderIp: "10.0.0.1",
      targetMac: PEER,
      targetIp: "10.0.0.9",
    }),
  )(out[0]!);
  assert.equal(h.counter("arp.rx.requests"), 1);
  assert.equal(h.counter("arp.tx.replies"), 1);
  h.finish();
});

Deno.test("arp ignores a request for an address that is not ours", () => {
  const h = host();
  assert.deepEqual(h.inject(request("10.0.0.77")), []);
  assert.equal(h.counter("arp.rx.not_for_us"), 1);
  assert.deepEqual(h.stack.neighbors(), []);
  h.finish();
});

Deno.test("arp answers for each of its addresses, with that address as sender", () => {
  const h = host({ addresses: ["10.0.0.1/24", "192.168.7.1/24"] });
  const out = h.inject(request("192.168.7.1", PEER, "192.168.7.9"));
  checkEthernet({}, checkArp({ operation: 2, senderIp: "192.168.7.1", targetIp: "192.168.7.9" }))(
    out[0]!,
  );
  h.finish();
});

Deno.test("arp learns the sender of a request addressed to it as STALE (Linux)", () => {
  const h = host();
  h.inject(request());
  assert.deepEqual(neighbor(h, "10.0.0.9"), {
    ifname: "eth0",
    address: "10.0.0.9",
    mac: PEER,
    state: "STALE",
    queued: 0,
  });
  // No resolution needed: the echo request goes straight out (a unicast
  // probe would confirm the mapping only delayFirstProbeTime later).
  const p = track(h.stack.ping("10.0.0.9", { timeout: 100 }));
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  isEchoRequest(PEER)(out[0]!);
  h.runFor(ms(100));
  h.finish();
  return p.done;
});

Deno.test("arp does not learn from a request for another address", () => {
  const h = host();
  h.inject(request("10.0.0.77"));
  h.inject(arpFrame({ operation: 2, senderMac: PEER, senderIp: "10.0.0.9", targetIp: "10.0.0.8" }));
  assert.deepEqual(h.stack.neighbors(), []);
  h.finish();
});

Deno.test("arp merges any ARP from a known neighbour into its entry (RFC 826)", () => {
  const h = host();
  h.inject(request());
  // A gratuitous ARP from 10.0.0.9 with a new MAC, for its own address.
  const out = h.inject(
    arpFrame({ operation: 1, senderMac: OTHER, senderIp: "10.0.0.9", targetIp: "10.0.0.9" }),
  );
  assert.deepEqual(out, []);
  assert.equal(neighbor(h, "10.0.0.9")?.mac, OTHER);
  // A reply addressed to someone else merges too.
  h.inject(
    arpFrame({ operation: 2, senderMac: PEER, senderIp: "10.0.0.9", targetIp: "10.0.0.5" }),
  );
  assert.equal(neighbor(h, "10.0.0.9")?.mac, PEER);
  assert.equal(h.counter("arp.rx.not_for_us"), 0);
  h.finish();
});

// ---- the cache life cycle --------------------------------------------------------------

Deno.test("arp INCOMPLETE → REACHABLE: the queued packet leaves on the reply", async () => {
  const h = host();
  const p = track(h.stack.ping("10.0.0.9", { timeout: 1000 }));
  h.runFor(0);
  const [req] = h.take();
  checkEthernet(
    { dst: BROADCAST, src: US, etherType: 0x0806 },
    checkArp({
      operation: 1,
      senderMac: US,
      senderIp: "10.0.0.1",
      targetMac: ZERO_MAC,
      targetIp: "10.0.0.9",
    }),
  )(req!);
  assert.deepEqual(neighbor(h, "10.0.0.9"), {
    ifname: "eth0",
    address: "10.0.0.9",
    mac: "",
    state: "INCOMPLETE",
    queued: 1,
  });
  h.runFor(ms(3));
  const out = h.inject(reply());
  assert.equal(out.length, 1);
  isEchoRequest(PEER)(out[0]!);
  assert.equal(neighbor(h, "10.0.0.9")?.state, "REACHABLE");
  assert.equal(neighbor(h, "10.0.0.9")?.queued, 0);
  // Answer the ping.
  const echo = out[0]!.subarray(34);
  const answer = icmpEcho({
    type: 0,
    identifier: (echo[4]! << 8) | echo[5]!,
    sequence: (echo[6]! << 8) | echo[7]!,
    data: echo.subarray(8),
  });
  h.runFor(ms(2));
  h.inject(
    ethernetFrame(
      { dst: US, src: PEER, etherType: 0x0800 },
      ipv4Packet({ src: "10.0.0.9", dst: "10.0.0.1", protocol: 1 }, answer),
    ),
  );
  await p.done;
  assert.equal(p.value?.rtt, 5);
  h.finish();
});

Deno.test("arp REACHABLE → STALE after reachableTime; a use probes by unicast 5 s later; the reply makes it REACHABLE", async () => {
  const h = host({ plugins: { arp: { reachableTime: 10 * SECOND } } });
  h.inject(request());
  h.inject(reply()); // confirmed
  h.take();
  h.runFor(5 * SECOND - 1); // reachable for 0.5..1.5 × reachableTime
  assert.equal(neighbor(h, "10.0.0.9")?.state, "REACHABLE");
  h.runFor(10 * SECOND + 1);
  assert.equal(neighbor(h, "10.0.0.9")?.state, "STALE");
  assert.deepEqual(h.take(), []);
  const p = track(h.stack.ping("10.0.0.9", { timeout: 100 }));
  h.runFor(0);
  // The packet still goes to the stale MAC; delayFirstProbeTime (5 s) later
  // a unicast request confirms it (Linux's DELAY, then PROBE).
  assert.equal(framesMatching(h.take(), isEchoRequest(PEER)).length, 1);
  h.runFor(5 * SECOND - 1);
  assert.deepEqual(h.take(), []);
  h.runFor(1);
  const probes = framesMatching(h.take(), isArpRequest("10.0.0.9", PEER));
  assert.equal(probes.length, 1);
  checkEthernet({ src: US }, checkArp({ senderIp: "10.0.0.1", senderMac: US }))(probes[0]!);
  h.inject(reply());
  assert.equal(neighbor(h, "10.0.0.9")?.state, "REACHABLE");
  await p.done;
  h.finish();
});

Deno.test("arp STALE entry gives up after 3 unanswered unicast probes", async () => {
  const h = host({ plugins: { arp: { reachableTime: 10 * SECOND } } });
  h.inject(request());
  h.inject(reply());
  h.runFor(16 * SECOND);
  h.take();
  const start = h.net.now();
  const p = track(h.stack.ping("10.0.0.9", { timeout: 100 }));
  h.runFor(10 * SECOND);
  const probes = h.history.filter((f) =>
    f.at >= start && isArpRequest("10.0.0.9", PEER).matches(f.bytes)
  );
  assert.deepEqual(probes.map((f) => f.at - start), [5 * SECOND, 6 * SECOND, 7 * SECOND]);
  assert.equal(neighbor(h, "10.0.0.9"), undefined);
  await p.done;
  h.finish();
});

Deno.test("arp removes a STALE entry unused for staleTime", () => {
  const h = host({ plugins: { arp: { reachableTime: 10 * SECOND, staleTime: 20 * SECOND } } });
  h.inject(request());
  h.runFor(15 * SECOND + 1);
  assert.equal(neighbor(h, "10.0.0.9")?.state, "STALE");
  h.runFor(20 * SECOND);
  assert.equal(neighbor(h, "10.0.0.9"), undefined);
  assert.deepEqual(h.take(), []);
  assert.equal(h.stack.pendingTimers, 0);
  h.finish();
});

Deno.test("arp sends 3 requests 1 s apart, then FAILED drops the queue as tx.unresolved", async () => {
  const h = host();
  const p = track(h.stack.ping("10.0.0.9", { timeout: 10_000 }));
  h.runFor(3 * SECOND - 1);
  assert.equal(neighbor(h, "10.0.0.9")?.state, "INCOMPLETE");
  h.runFor(1);
  assert.deepEqual(neighbor(h, "10.0.0.9"), {
    ifname: "eth0",
    address: "10.0.0.9",
    mac: "",
    state: "FAILED",
    queued: 0,
  });
  assert.equal(h.counter("arp.tx.unresolved"), 1);
  const requests = h.history.filter((f) => isArpRequest("10.0.0.9").matches(f.bytes));
  assert.deepEqual(requests.map((f) => f.at), [0, SECOND, 2 * SECOND]);
  assert.equal(h.counter("arp.tx.requests"), 3);
  // While FAILED, packets are dropped at once and no request is sent.
  h.take();
  const q = track(h.stack.ping("10.0.0.9", { timeout: 1000 }));
  h.runFor(0);
  assert.deepEqual(h.take().filter((f) => isArpRequest("10.0.0.9").matches(f)).length, 0);
  assert.equal(h.counter("arp.tx.unresolved"), 2);
  h.runFor(10 * SECOND);
  await p.done;
  await q.done;
  assert.ok(p.error instanceof Deno.errors.TimedOut);
  // failedTime (20 s) after failing, the entry is gone.
  h.runFor(10 * SECOND);
  assert.equal(neighbor(h, "10.0.0.9"), undefined);
  h.finish();
});

Deno.test("arp queue is bounded: the oldest waiting packet is dropped as tx.queue_full", async () => {
  const h = host({ plugins: { arp: { queueLength: 3 } } });
  const pings = [1, 2, 3, 4, 5].map((sequence) =>
    track(h.stack.ping("10.0.0.9", { timeout: 100, sequence }))
  );
  h.runFor(0);
  assert.equal(h.counter("arp.tx.queue_full"), 2);
  assert.equal(neighbor(h, "10.0.0.9")?.queued, 3);
  h.take();
  const out = h.inject(reply());
  assert.deepEqual(
    out.map((f) => (f[14 + 20 + 6]! << 8) | f[14 + 20 + 7]!),
    [3, 4, 5],
  );
  h.runFor(ms(100));
  await Promise.all(pings.map((p) => p.done));
  h.finish();
});

Deno.test("arp cache is bounded by maxEntries; the least recently used entry is evicted", () => {
  const h = host({ plugins: { arp: { maxEntries: 4 } } });
  for (let i = 11; i <= 16; i++) {
    const out = h.inject(request("10.0.0.1", `02:00:00:00:01:${i}`, `10.0.0.${i}`));
    assert.equal(out.length, 1, "a full cache does not stop replies");
  }
  assert.deepEqual(h.stack.neighbors().map((n) => n.address), [
    "10.0.0.13",
    "10.0.0.14",
    "10.0.0.15",
    "10.0.0.16",
  ]);
  assert.equal(h.counter("arp.cache.evicted"), 2);
  assert.equal(h.counter("arp.cache.full"), 0);
  // A new neighbour is resolved at once: it takes the oldest entry's place.
  const p = track(h.stack.ping("10.0.0.20", { timeout: 10 }));
  h.runFor(0);
  assert.equal(framesMatching(h.take(), isArpRequest("10.0.0.20")).length, 1);
  assert.equal(neighbor(h, "10.0.0.20")?.state, "INCOMPLETE");
  assert.equal(neighbor(h, "10.0.0.13"), undefined);
  h.runFor(ms(10));
  h.finish();
  return p.done;
});

Deno.test("arp cache eviction spares an entry in use: it gets a second chance, an unused one goes", async () => {
  const h = host({ plugins: { arp: { maxEntries: 3 } } });
  for (let i = 11; i <= 13; i++) {
    h.inject(request("10.0.0.1", `02:00:00:00:01:${i}`, `10.0.0.${i}`));
  }
  // 10.0.0.11 is the oldest entry, but we send to it: it must survive.
  const p = track(h.stack.ping("10.0.0.11", { timeout: 10 }));
  h.runFor(0);
  h.inject(request("10.0.0.1", "02:00:00:00:01:14", "10.0.0.14"));
  const left = h.stack.neighbors().map((n) => n.address).sort();
  assert.deepEqual(left, ["10.0.0.11", "10.0.0.13", "10.0.0.14"]);
  assert.equal(h.counter("arp.cache.evicted"), 1);
  h.runFor(ms(10));
  h.finish();
  await p.done;
});

Deno.test("arp cache full of INCOMPLETE entries refuses a new neighbour as cache.full", () => {
  const h = host({ plugins: { arp: { maxEntries: 2 } } });
  const pings = [7, 8, 9].map((i) => track(h.stack.ping(`10.0.0.${i}`, { timeout: 10 })));
  h.runFor(0);
  assert.equal(h.counter("arp.cache.full"), 1);
  assert.equal(h.stack.neighbors().length, 2);
  h.runFor(ms(10));
  h.finish();
  return Promise.all(pings.map((p) => p.done)).then(() => {});
});

// ---- announcements, probes, bad senders -----------------------------------------------

Deno.test("arp announces an added address with a gratuitous request", () => {
  const h = host();
  assert.equal(h.boot.length, 1);
  const announcement = (addr: string) =>
    checkEthernet(
      { dst: BROADCAST, src: US, etherType: 0x0806, length: 60 },
      checkArp({
        operation: 1,
        senderMac: US,
        senderIp: addr,
        targetMac: ZERO_MAC,
        targetIp: addr,
      }),
    );
  announcement("10.0.0.1")(h.boot[0]!);
  h.stack.addAddress("eth0", "10.0.1.1/24");
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  announcement("10.0.1.1")(out[0]!);
  assert.equal(h.counter("arp.tx.announcements"), 2);
  h.finish();
});

Deno.test("arp with announce: false stays quiet when an address is added", () => {
  const h = host({ plugins: { arp: { announce: false } } });
  assert.deepEqual(h.boot, []);
  h.finish();
});

Deno.test("arp answers a probe (sender IP 0, RFC 5227) without learning", () => {
  const h = host();
  const out = h.inject(
    arpFrame({ operation: 1, senderMac: PEER, senderIp: "0.0.0.0", targetIp: "10.0.0.1" }),
  );
  assert.equal(out.length, 1);
  checkEthernet(
    { dst: PEER, src: US },
    checkArp({
      operation: 2,
      senderMac: US,
      senderIp: "10.0.0.1",
      targetMac: PEER,
      targetIp: "0.0.0.0",
    }),
  )(out[0]!);
  assert.deepEqual(h.stack.neighbors(), []);
  // A probe for someone else's address gets nothing.
  assert.deepEqual(
    h.inject(
      arpFrame({ operation: 1, senderMac: PEER, senderIp: "0.0.0.0", targetIp: "10.0.0.5" }),
    ),
    [],
  );
  h.finish();
});

Deno.test("arp drops senders with a broadcast, multicast or our own MAC as rx.bad_sender", () => {
  const h = host();
  for (const senderMac of [BROADCAST, "01:00:5e:00:00:01", US]) {
    assert.deepEqual(h.inject(request("10.0.0.1", senderMac)), [], senderMac);
  }
  for (const senderIp of ["224.0.0.1", "255.255.255.255"]) {
    assert.deepEqual(h.inject(request("10.0.0.1", PEER, senderIp)), [], senderIp);
  }
  assert.equal(h.counter("arp.rx.bad_sender"), 5);
  assert.deepEqual(h.stack.neighbors(), []);
  h.finish();
});

Deno.test("arp neither caches nor answers another host claiming our address", () => {
  const h = host();
  // Someone announces our address (an address conflict, RFC 5227 §2.4).
  const out = h.inject(
    arpFrame({ operation: 1, senderMac: PEER, senderIp: "10.0.0.1", targetIp: "10.0.0.1" }),
  );
  assert.deepEqual(out, []);
  assert.equal(neighbor(h, "10.0.0.1"), undefined);
  assert.equal(h.counter("arp.rx.address_conflict"), 1);
  h.finish();
});

Deno.test("arp drops truncated and foreign-hardware packets without throwing", () => {
  const h = host();
  const good = arpPacket({
    operation: 1,
    senderMac: PEER,
    senderIp: "10.0.0.9",
    targetIp: "10.0.0.1",
  });
  for (let n = 0; n < 28; n++) {
    h.inject(ethernetFrame({ dst: BROADCAST, src: PEER, etherType: 0x0806 }, good.subarray(0, n)));
  }
  assert.equal(h.counter("arp.rx.truncated"), 28);
  const ieee1394 = good.slice();
  ieee1394[1] = 24;
  h.inject(ethernetFrame({ dst: BROADCAST, src: PEER, etherType: 0x0806 }, ieee1394));
  const op3 = good.slice();
  op3[7] = 3;
  h.inject(ethernetFrame({ dst: BROADCAST, src: PEER, etherType: 0x0806 }, op3));
  assert.equal(h.counter("arp.rx.unsupported_hardware"), 1);
  assert.equal(h.counter("arp.rx.unsupported_operation"), 1);
  assert.deepEqual(h.take(), []);
  assert.equal(h.counter("dispatcher.plugin_fault"), 0);
  h.finish();
});

// ---- real captures -----------------------------------------------------------------------

Deno.test({
  name: "arp answers the request in arp_resolution.pcapng with the captured reply's bytes",
  fn() {
    const [req, rep] = pcapRecords("arp_resolution.pcapng");
    const h = makeHost({ mac: "00:13:46:0b:22:ba", addresses: ["192.168.0.1/24"] });
    const out = h.inject(req!.data);
    assert.equal(out.length, 1);
    // The captured reply carries 4 bytes of trailer; ours is padded with zeros.
    assert.equal(hex(out[0]!.subarray(0, 42)), hex(rep!.data.subarray(0, 42)));
    assert.deepEqual(out[0]!.subarray(42), new Uint8Array(18));
    h.finish();
  },
});

Deno.test({
  name: "arp resolves 192.168.0.1 with the frames of arp_resolution.pcapng",
  async fn() {
    const [req, rep] = pcapRecords("arp_resolution.pcapng");
    const h = makeHost({ mac: "00:16:ce:6e:8b:24", addresses: ["192.168.0.114/24"] });
    const p = track(h.stack.ping("192.168.0.1", { timeout: 50 }));
    h.runFor(0);
    const [ours] = h.take();
    // Byte for byte the request the capture holds (before our padding).
    assert.equal(hex(ours!.subarray(0, 42)), hex(req!.data));
    const out = h.inject(rep!.data);
    isEchoRequest("00:13:46:0b:22:ba")(out[0]!);
    assert.equal(neighbor(h, "192.168.0.1")?.mac, "00:13:46:0b:22:ba");
    h.runFor(ms(50));
    await p.done;
    h.finish();
  },
});

Deno.test({
  name: "arp merges the announcement in arp_gratuitous.pcapng only into an existing entry",
  fn() {
    const [frame] = pcapRecords("arp_gratuitous.pcapng");
    const h = makeHost({ addresses: ["24.6.125.1/24"] });
    assert.deepEqual(h.inject(frame!.data), []);
    assert.deepEqual(h.stack.neighbors(), []);
    h.inject(request("24.6.125.1", PEER, "24.6.125.19"));
    h.take();
    assert.deepEqual(h.inject(frame!.data), []);
    assert.equal(neighbor(h, "24.6.125.19")?.mac, "00:03:47:b7:f2:f5");
    assert.equal(neighbor(h, "24.6.125.19")?.state, "REACHABLE");
    h.finish();
  },
});

Deno.test({
  name: "arp answers the three arping requests of tap-arping.pcap and ignores the IPv6 frames",
  fn() {
    const h = makeHost({ mac: "02:00:00:77:00:02", addresses: ["10.78.0.2/24"] });
    const out = pcapRecords("linux-probes/tap-arping.pcap").flatMap((r) => h.inject(r.data));
    assert.equal(out.length, 3);
    for (const f of out) {
      checkEthernet(
        { dst: "02:00:00:77:00:01", src: "02:00:00:77:00:02", etherType: 0x0806, length: 60 },
        checkArp({
          operation: 2,
          senderMac: "02:00:00:77:00:02",
          senderIp: "10.78.0.2",
          targetMac: "02:00:00:77:00:01",
          targetIp: "10.78.0.1",
        }),
      )(f);
    }
    assert.equal(neighbor(h, "10.78.0.1")?.mac, "02:00:00:77:00:01");
    assert.equal(h.counter("dispatcher.plugin_fault"), 0);
    h.finish();
  },
});

Deno.test({
  name: "arp learns nothing from the gratuitous ARPs of tap-arpingU.pcap, but merges them",
  fn() {
    const records = pcapRecords("linux-probes/tap-arpingU.pcap");
    const h = makeHost({ mac: "02:00:00:77:00:02", addresses: ["10.78.0.2/24"] });
    assert.deepEqual(records.flatMap((r) => h.inject(r.data)), []);
    assert.deepEqual(h.stack.neighbors(), []);
    h.inject(request("10.78.0.2", PEER, "10.78.0.1"));
    h.take();
    assert.deepEqual(records.flatMap((r) => h.inject(r.data)), []);
    assert.equal(neighbor(h, "10.78.0.1")?.mac, "02:00:00:77:00:01");
    h.finish();
  },
});

Deno.test("arp addStatic refuses a bad interface, address or MAC before it creates an entry, as NDP's does", () => {
  const h = host();
  const arp = h.stack.service<ArpService>("arp.resolve")!;
  const ifindex = h.iface.index;
  const peer = 0x0a000009; // 10.0.0.9
  const mac = new Uint8Array([2, 0, 0, 0, 0, 0x99]);
  // A short MAC would be written into every frame's 6-byte destination, the rest left stale.
  assert.throws(() => arp.addStatic(ifindex, peer, new Uint8Array(3)), RangeError);
  assert.throws(() => arp.addStatic(ifindex, peer, new Uint8Array([1, 0, 0, 0, 0, 9])), RangeError);
  assert.throws(
    () => arp.addStatic(ifindex, peer, [2, 0, 0, 0, 0, 9] as unknown as Uint8Array),
    TypeError,
  );
  assert.throws(() => arp.addStatic(99, peer, mac), RangeError); // no such interface
  assert.throws(() => arp.addStatic(1.5, peer, mac), TypeError);
  assert.throws(() => arp.addStatic(ifindex, "fd00::9" as unknown as number, mac), TypeError);
  assert.throws(() => arp.addStatic(ifindex, 2 ** 32, mac), RangeError);
  // Addresses ARP never resolves (it maps them to a MAC itself): an entry would never be used.
  for (const address of [0, 0xffffffff, 0xe0000001]) {
    assert.throws(() => arp.addStatic(ifindex, address, mac), RangeError);
  }
  assert.deepEqual(h.stack.neighbors(), []);
  arp.addStatic(ifindex, peer, mac);
  assert.equal(neighbor(h, "10.0.0.9")?.state, "PERMANENT");
  assert.equal(neighbor(h, "10.0.0.9")?.mac, PEER);
  // All zeros is a neighbour's MAC as Linux's `ip neigh` takes it (replayed captures with zeroed MACs).
  arp.addStatic(ifindex, 0x0a000008, new Uint8Array(6));
  assert.equal(neighbor(h, "10.0.0.8")?.mac, ZERO_MAC);
});
