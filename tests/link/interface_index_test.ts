/**
 * Interface indexes are never reused: whatever still names a removed
 * interface's index (a socket's multicast membership, a zone in a send, a
 * route, a static neighbour) can never reach an interface added later,
 * even one given the same name. The table's own rules (counting up, a
 * failed add using none, the end of the index space) and its memory:
 * `stack/netif_test.ts`, `tests/hardening/interface_churn_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createStack, type DatagramConn, type Stack, VirtualNetwork } from "../../mod.ts";
import type { Ipv4RoutesService, Ipv6RoutesService } from "../../stack/services.ts";
import type { ArpService, NdpService } from "../../stack/_services_link.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { EnvBase } from "../_harness.ts";

const SECOND = 1_000_000;
const GROUP = "ff05::1:3";
const enc = new TextEncoder();
const dec = new TextDecoder();
const k = (s: string) => IpAddress.parse(s)!.key;

/** The payloads `conn` receives from now on. */
function collect(conn: DatagramConn): string[] {
  const got: string[] = [];
  (async () => {
    for await (const [data] of conn) got.push(dec.decode(data));
  })();
  return got;
}

/** A UDP socket on port 5000 of every address, shared. */
function listenOn5000(stack: Stack): DatagramConn {
  return stack.listenDatagram({ transport: "udp", hostname: "::", port: 5000, reuseAddress: true });
}

/** Lets the receivers' loops run. */
function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

Deno.test("interface index: a membership, zone, route or neighbour naming a removed interface's index never reaches the interface added after it, same name or not", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const base = new EnvBase(net, null);
  const s = base.newStack("s");
  const peer = base.newStack("peer");
  const l0 = net.link(), l1 = net.link(), l2 = net.link();
  s.addInterface({ name: "eth0", driver: l0.a, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  const gone = s.addInterface({
    name: "eth1",
    driver: l1.a,
    addresses: ["10.1.0.1/24", "fd01::1/64"],
  });
  peer.addInterface({ name: "eth0", driver: l2.b, addresses: ["10.2.0.2/24", "fd02::2/64"] });
  net.runFor(2 * SECOND); // DAD
  s.addRoute("10.9.0.0/16", { gateway: "10.1.0.254" });
  s.addRoute("fd09::/32", { gateway: "fd01::fe" });
  const old = listenOn5000(s);
  const oldGot = collect(old);
  // Only from fd01::77, on eth1: a filter that would refuse the peer's datagrams below.
  await old.joinMulticastV6(GROUP, gone.index, { sources: ["fd01::77"] });
  await old.send(new Uint8Array(4), { hostname: `fe80::9%${gone.index}`, port: 9 });

  s.removeInterface("eth1");
  const eth1 = s.addInterface({
    name: "eth1",
    driver: l2.a,
    addresses: ["10.2.0.1/24", "fd02::1/64"],
  });
  assert.notEqual(eth1.index, gone.index);
  net.runFor(2 * SECOND); // DAD
  const fresh = listenOn5000(s);
  const freshGot = collect(fresh);
  await fresh.joinMulticastV6(GROUP, eth1.index);
  net.runFor(SECOND);

  // The group's datagrams on the new interface: the old socket's filter
  // named the removed interface, so here it hears the group as any socket
  // that did not join on this interface does (IP_MULTICAST_ALL). Were the
  // index reused, that filter (fd01::77 only) would refuse the datagram.
  const tx = peer.listenDatagram({ transport: "udp", hostname: "::", port: 6000 });
  await tx.send(enc.encode("to the group"), { hostname: GROUP, port: 5000 });
  net.runFor(50_000);
  await tick();
  assert.deepEqual(freshGot, ["to the group"]);
  assert.deepEqual(oldGot, ["to the group"]);

  // The old index as a zone names nothing; the name names the new interface.
  const sent = l2.lanes[0].stats.sent;
  await assert.rejects(
    old.send(new Uint8Array(4), { hostname: `fe80::9%${gone.index}`, port: 9 }),
    TypeError,
  );
  await assert.rejects(old.joinMulticastV6(GROUP, gone.index), Deno.errors.NotFound);
  net.runFor(50_000);
  assert.equal(l2.lanes[0].stats.sent, sent, "nothing sent for the old index");
  await old.send(new Uint8Array(4), { hostname: "fe80::9%eth1", port: 9 });
  net.runFor(50_000);
  assert.ok(l2.lanes[0].stats.sent > sent, "the name's sends leave on the new interface");

  // Routes through the old interface did not come back with its name.
  const v4 = s.service<Ipv4RoutesService>("ipv4.routes")!;
  const v6 = s.service<Ipv6RoutesService>("ipv6.routes")!;
  assert.equal(v4.list().filter((r) => r.ifindex === gone.index).length, 0);
  assert.equal(v6.list().filter((r) => r.ifindex === gone.index).length, 0);
  assert.equal(v4.lookup(0x0a090001), undefined); // 10.9.0.1
  assert.equal(v6.lookup(k("fd09::1")), undefined);

  // Static neighbours and link parameters for the old index are refused.
  const mac = new Uint8Array([2, 0, 0, 0, 0, 9]);
  assert.throws(
    () => s.service<ArpService>("neighbor.ipv4")!.addStatic(gone.index, 0x0a020009, mac),
    RangeError,
  );
  assert.throws(
    () => s.service<NdpService>("neighbor.ipv6")!.addStatic(gone.index, k("fd02::9"), mac),
    RangeError,
  );
  assert.throws(() => v6.setLinkParameters(gone.index, { hopLimit: 9 }), RangeError);
  for (const conn of [old, fresh, tx]) conn.close();
  base.finish();
});

Deno.test("interface index: an addInterface that fails (the driver's attach throws) uses no index", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const stack = createStack({ seed: 1 });
  stack.addInterface({ name: "eth0", driver: net.link().a });
  const failing = net.link().a;
  failing.attach = () => {
    throw new Error("no device");
  };
  assert.throws(() => stack.addInterface({ name: "eth1", driver: failing }), Error, "no device");
  assert.equal(stack.addInterface({ name: "eth1", driver: net.link().a }).index, 1);
  stack.close();
  net.close();
});
