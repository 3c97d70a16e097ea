/**
 * An IPv6 address's connected (prefix) route exists from the moment the
 * address is added, tentative or not, as Linux's `inet6_addr_add` adds it
 * (checked with veth on 6.18.44): while Duplicate Address Detection runs, a
 * send finds the link and fails at source selection with
 * `Deno.errors.AddrNotAvailable` (Linux: EADDRNOTAVAIL from `sendto` and
 * `connect`), not with `NetworkUnreachable`; after DAD it works. A manual
 * address whose DAD failed stays `duplicate` with its route (Linux keeps a
 * `dadfailed` permanent address and its route); the route goes with the
 * last address of its prefix on the interface.
 */
import assert from "node:assert/strict";
import {
  createStack,
  DEFAULT_PLUGINS,
  SECOND,
  slaacPlugin,
  type Stack,
  VirtualNetwork,
} from "../../mod.ts";
import { Capture } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { addressState } from "../ndp/_ndp.ts";

// Without SLAAC: no link-local address of its own making, so the tests say which addresses exist.
const PLUGINS = DEFAULT_PLUGINS.filter((p) => p !== slaacPlugin);

function lan(options: { a?: string[]; b?: string[]; capture?: boolean } = {}) {
  const net = new VirtualNetwork({ seed: 3 });
  const link = net.link();
  const capture = options.capture ? new Capture() : null;
  const a = net.addNode(createStack({ clock: net.clock, seed: 1, plugins: PLUGINS }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2, plugins: PLUGINS }));
  const aEnd = capture
    ? capture.tap(link.a, { name: "a", receive: false, transmit: true })
    : link.a;
  const bEnd = capture
    ? capture.tap(link.b, { name: "b", receive: false, transmit: true })
    : link.b;
  a.addInterface({ name: "eth0", driver: aEnd, addresses: options.a ?? ["fd00::1/64"] });
  b.addInterface({ name: "eth0", driver: bEnd, addresses: options.b ?? ["fd00::2/64"] });
  const sleep = (us: number) => new Promise<void>((r) => net.at(net.now() + us, r));
  const close = () => {
    a.close();
    b.close();
    net.close();
  };
  return { net, a, b, sleep, capture, close };
}

/** The IPv6 routes of `s` as `ip -6 route` would print their essentials. */
const routes6 = (s: Stack) =>
  s.routes().filter((r) => r.family === 6).map((r) =>
    `${r.destination} dev ${r.interface} ${r.origin} metric ${r.metric}`
  );

const state = (s: Stack, address: string, ifname?: string) => addressState(s, address, ifname);

const notAvailable = (e: unknown) =>
  e instanceof Deno.errors.AddrNotAvailable && /address not available/.test(e.message);

Deno.test("ipv6 tentative: the prefix route is listed from address-added, before DAD passes", () => {
  const { a, close } = lan();
  assert.equal(state(a, "fd00::1"), "tentative");
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  // `ip -6 route get fd00::2` on Linux meanwhile: "fd00::2 from :: dev eth0 proto kernel metric 256".
  assert.deepEqual(a.routeGet("fd00::2"), {
    destination: "fd00::/64",
    interface: "eth0",
    metric: 256,
    origin: "connected",
    family: 6,
    nextHop: "fd00::2",
    mtu: 1500,
  });
  close();
});

Deno.test("ipv6 tentative: ping, connect, a datagram send, fetch and traceroute fail AddrNotAvailable, then work after DAD", async () => {
  // b's address first (a tentative one cannot be bound, as Linux's EADDRNOTAVAIL), then a's.
  const { net, a, b, sleep, capture, close } = lan({ a: [], capture: true });
  await net.run(() => sleep(3 * SECOND));
  a.addAddress("eth0", "fd00::1/64");
  const listener = b.listen({ hostname: "fd00::2", port: 80 });
  const http = b.serve({ hostname: "fd00::2", port: 8080 }, () => new Response("up"));
  const server = b.listenDatagram({ transport: "udp", hostname: "fd00::2", port: 7 });
  const client = a.listenDatagram({ transport: "udp", hostname: "::", port: 0 });
  const to = { transport: "udp" as const, hostname: "fd00::2", port: 7 };
  await assert.rejects(net.run(() => a.ping("fd00::2", { timeout: 100 })), notAvailable);
  await assert.rejects(net.run(() => a.connect({ hostname: "fd00::2", port: 80 })), notAvailable);
  await assert.rejects(net.run(() => client.send(new Uint8Array([1]), to)), notAvailable);
  await assert.rejects(
    net.run(() => a.fetch("http://[fd00::2]:8080/")),
    (e: Error) => e instanceof TypeError && notAvailable(e.cause),
  );
  await assert.rejects(net.run(() => a.traceroute("fd00::2")), notAvailable);
  assert.equal(a.counters.value("udp.tx.no_source"), 1);
  assert.equal(a.counters.value("udp.tx.no_route"), 0);
  // Nothing went on the wire from a but DAD's probe(s) and MLD: no solicitation from a tentative address.
  assert.equal(a.counters.value("ndp.tx.solicitations"), 0);

  await net.run(() => sleep(3 * SECOND));
  assert.equal(state(a, "fd00::1"), "preferred");
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  const reply = await net.run(() => a.ping("fd00::2"));
  assert.equal(reply.from, "fd00::2");
  const local = await net.run(async () => {
    const [conn, peer] = await Promise.all([
      a.connect({ hostname: "fd00::2", port: 80 }),
      listener.accept(),
    ]);
    conn.close();
    peer.close();
    await sleep(SECOND);
    return (conn.localAddr as Deno.NetAddr).hostname;
  });
  assert.equal(local, "fd00::1");
  const got = await net.run(async () => {
    await client.send(new Uint8Array([1, 2, 3]), to);
    const [data, from] = await server.receive();
    return [data.length, (from as Deno.NetAddr).hostname];
  });
  assert.deepEqual(got, [3, "fd00::1"]);
  const body = await net.run(async () => await (await a.fetch("http://[fd00::2]:8080/")).text());
  assert.equal(body, "up");
  client.close();
  server.close();
  listener.close();
  await net.run(() => http.shutdown());
  await assertTsharkClean(capture!.bytes());
  close();
});

Deno.test("ipv6 tentative: a manual address whose DAD fails stays duplicate with its route, as Linux's dadfailed; removing it takes the route", async () => {
  // b holds fd00::1 first (its DAD done), then a is given the same address.
  const { net, a, b, sleep, close } = lan({ a: [], b: ["fd00::1/64"] });
  await net.run(() => sleep(3 * SECOND));
  assert.equal(state(b, "fd00::1"), "preferred");
  assert.deepEqual(routes6(a), []);
  a.addAddress("eth0", "fd00::1/64");
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  await net.run(() => sleep(3 * SECOND));
  assert.equal(state(a, "fd00::1"), "duplicate");
  assert.equal(a.counters.value("ndp.dad.duplicates"), 1);
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  // Never a source: sends on the prefix fail at source selection, as Linux's.
  await assert.rejects(net.run(() => a.ping("fd00::2", { timeout: 100 })), notAvailable);
  a.removeAddress("eth0", "fd00::1/64");
  assert.deepEqual(routes6(a), []);
  await assert.rejects(
    net.run(() => a.ping("fd00::2", { timeout: 100 })),
    Deno.errors.NetworkUnreachable,
  );
  close();
});

Deno.test("ipv6 connected routes: a static route on the same prefix with another metric outlives address changes", () => {
  const { a, close } = lan();
  a.addRoute("fd00::/64", { interface: "eth0", metric: 1024 });
  a.addAddress("eth0", "fd00::3/64");
  a.removeAddress("eth0", "fd00::3/64");
  assert.deepEqual(routes6(a), [
    "fd00::/64 dev eth0 connected metric 256",
    "fd00::/64 dev eth0 static metric 1024",
  ]);
  a.removeAddress("eth0", "fd00::1/64");
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 static metric 1024"]);
  close();
});

Deno.test("ipv6 tentative: two addresses on one prefix share its route; it goes with the last", async () => {
  const { net, a, sleep, close } = lan({ a: ["fd00::1/64", "fd00::3/64"] });
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  a.removeAddress("eth0", "fd00::3/64"); // while both are tentative
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  a.addAddress("eth0", "fd00::3/64");
  await net.run(() => sleep(3 * SECOND));
  assert.deepEqual([state(a, "fd00::1"), state(a, "fd00::3")], ["preferred", "preferred"]);
  a.removeAddress("eth0", "fd00::1/64"); // one preferred goes: the route stays for fd00::3
  assert.deepEqual(routes6(a), ["fd00::/64 dev eth0 connected metric 256"]);
  assert.equal((await net.run(() => a.ping("fd00::2"))).from, "fd00::2");
  a.removeAddress("eth0", "fd00::3/64");
  assert.deepEqual(routes6(a), []);
  close();
});

Deno.test("ipv6 tentative: a new global address while the link-local is preferred: the send goes from the link-local, as Linux's", async () => {
  const { net, a, sleep, capture, close } = lan({
    a: ["fe80::1/64"],
    b: ["fe80::2/64", "fd00::2/64"],
    capture: true,
  });
  await net.run(() => sleep(3 * SECOND));
  a.addAddress("eth0", "fd00::1/64");
  assert.equal(state(a, "fd00::1"), "tentative");
  assert.equal(a.routeGet("fd00::2")?.source, "fe80::1");
  const reply = await net.run(() => a.ping("fd00::2"));
  assert.equal(reply.from, "fd00::2");
  // The solicitation for fd00::2 came from the preferred link-local (RFC 4861 §7.2.2), never from ::.
  assert.equal(a.counters.value("ndp.tx.solicitations"), 1);
  assert.equal(a.counters.value("ndp.tx.no_source"), 0);
  await assertTsharkClean(capture!.bytes());
  close();
});

/**
 * a (fd00::1) — r — b (fd01::2, fe80::2) on two Ethernet links; r forwards
 * IPv6 and holds `rLink2` on the second link. Every address has passed DAD
 * when this returns.
 */
async function routed(rLink2: string[]) {
  const net = new VirtualNetwork({ seed: 4 });
  const l1 = net.link();
  const l2 = net.link();
  const mk = (seed: number) =>
    net.addNode(createStack({ clock: net.clock, seed, plugins: PLUGINS }));
  const a = mk(1), r = mk(2), b = mk(3);
  a.addInterface({ name: "eth0", driver: l1.a, addresses: ["fd00::1/64"] });
  r.addInterface({ name: "eth0", driver: l1.b, addresses: ["fd00::ff/64"] });
  r.addInterface({ name: "eth1", driver: l2.a, addresses: rLink2 });
  b.addInterface({ name: "eth0", driver: l2.b, addresses: ["fe80::2/64", "fd01::2/64"] });
  r.setForwarding(true, 6);
  a.addRoute("default", { gateway: "fd00::ff" });
  const sleep = (us: number) => new Promise<void>((res) => net.at(net.now() + us, res));
  await net.run(() => sleep(3 * SECOND));
  // b's way back, through r's link-local when r has one, else its new address.
  b.addRoute("fd00::/64", { gateway: rLink2.length > 0 ? "fe80::ff%eth0" : "fd01::ff" });
  const close = () => {
    for (const s of [a, r, b]) s.close();
    net.close();
  };
  return { net, a, r, b, close };
}

Deno.test("ipv6 tentative: a router forwards onto a prefix its own address there is still tentative on, resolving from its link-local, as Linux's", async () => {
  const { net, a, r, close } = await routed(["fe80::ff/64"]);
  r.addAddress("eth1", "fd01::ff/64");
  assert.equal(state(r, "fd01::ff", "eth1"), "tentative");
  assert.ok(routes6(r).includes("fd01::/64 dev eth1 connected metric 256"));
  const reply = await net.run(() => a.ping("fd01::2"));
  assert.deepEqual([reply.from, reply.ttl], ["fd01::2", 63]);
  assert.equal(state(r, "fd01::ff", "eth1"), "tentative", "answered within r's DAD");
  assert.equal(r.counters.value("ipv6.fwd.forwarded"), 2);
  assert.equal(r.counters.value("ndp.tx.no_source"), 0);
  close();
});

Deno.test("ipv6 tentative: with no usable address on that link the router sends no solicitation (never from ::) until its DAD passes, then forwards", async () => {
  const { net, a, r, close } = await routed([]);
  r.addAddress("eth1", "fd01::ff/64");
  assert.ok(routes6(r).includes("fd01::/64 dev eth1 connected metric 256"));
  // Linux's ndisc_send_ns: no non-tentative address on the link, no NS; the neighbour retries.
  await assert.rejects(net.run(() => a.ping("fd01::2", { timeout: 200 })), Deno.errors.TimedOut);
  assert.equal(state(r, "fd01::ff", "eth1"), "tentative");
  assert.equal(r.counters.value("ndp.tx.no_source"), 1);
  assert.equal(r.counters.value("ndp.tx.solicitations"), 0);
  // Once DAD passed, a retry solicits from fd01::ff and the next ping goes through.
  const reply = await net.run(() => a.ping("fd01::2", { timeout: 5000 }));
  assert.equal(reply.from, "fd01::2");
  assert.equal(state(r, "fd01::ff", "eth1"), "preferred");
  assert.ok(r.counters.value("ndp.tx.solicitations") >= 1);
  close();
});
