/**
 * Issue 16, finding 9: every public argument is checked before any state
 * is created. Each bad call throws (or rejects with) the error Deno's own
 * API would use, and leaves the stack's sockets, ports, timers, interfaces,
 * routes and buffers exactly as they were.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Stack, UdpService } from "../../mod.ts";
import { makeLan, track, type Tracked, withEnv } from "../_harness.ts";

/** What a failed call must leave unchanged. */
function state(s: Stack): string {
  const udp = s.service<UdpService>("udp.sockets")!.list();
  return JSON.stringify({
    tcp: s.sockets().map((x) => `${x.local} ${x.remote} ${x.state}`),
    udp: udp.map((x) => x.local),
    timers: s.pendingTimers,
    interfaces: s.interfaces.list().map((i) => [i.name, i.mtu, i.ipv4.length, i.ipv6.length]),
    routes: s.routes(),
    buffers: s.pool.outstanding,
  });
}

/** Runs `fn` (sync or async) and asserts it fails with `type` and changes nothing on `s`. */
async function refused(
  s: Stack,
  type: abstract new (...args: never[]) => Error,
  what: string,
  fn: () => unknown,
): Promise<void> {
  const before = state(s);
  let error: unknown;
  try {
    const r = fn();
    if (r instanceof Promise) {
      const t: Tracked<unknown> = track(r);
      await t.done;
      assert.ok(t.settled, `${what}: must settle at once, not at a timeout`);
      error = t.error;
    }
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof type, `${what}: expected ${type.name}, got ${String(error)}`);
  assert.equal(state(s), before, `${what}: state changed`);
}

const fakeDriver = () => ({
  linkType: 1 as const,
  mtu: 1500,
  mac: new Uint8Array([2, 0, 0, 0, 0, 0x42]),
  attach() {},
  transmit(p: { release(): void }) {
    p.release();
  },
  close() {},
});

Deno.test("api connect, listen, ping and traceroute refuse bad options before creating state", async () => {
  await withEnv(makeLan({ hosts: 2 }), async (lan) => {
    const s = lan.hosts[0]!;
    await refused(
      s,
      TypeError,
      "connect timeout NaN",
      () => s.connect({ hostname: "10.0.0.2", port: 80, timeout: NaN }),
    );
    await refused(
      s,
      RangeError,
      "connect timeout -1",
      () => s.connect({ hostname: "10.0.0.2", port: 80, timeout: -1 }),
    );
    await refused(
      s,
      Deno.errors.NetworkUnreachable,
      "connect to the subnet broadcast",
      () => s.connect({ hostname: "10.0.0.255", port: 80 }),
    );
    await refused(
      s,
      Deno.errors.NetworkUnreachable,
      "connect to a multicast group",
      () => s.connect({ hostname: "224.0.0.1", port: 80 }),
    );
    await refused(s, TypeError, "listen backlog NaN", () => s.listen({ port: 80, backlog: NaN }));
    await refused(s, RangeError, "listen backlog -1", () => s.listen({ port: 80, backlog: -1 }));
    await refused(s, TypeError, "ping timeout NaN", () => s.ping("10.0.0.2", { timeout: NaN }));
    await refused(s, RangeError, "ping ttl 256", () => s.ping("10.0.0.2", { ttl: 256 }));
    await refused(
      s,
      RangeError,
      "traceroute maxHops 256",
      () => s.traceroute("10.0.0.2", { maxHops: 256 }),
    );
    await refused(
      s,
      RangeError,
      "traceroute firstHop 0",
      () => s.traceroute("10.0.0.2", { firstHop: 0 }),
    );
    await refused(
      s,
      TypeError,
      "traceroute timeout NaN",
      () => s.traceroute("10.0.0.2", { timeout: NaN }),
    );
  });
});

Deno.test("api addInterface refuses bad MTUs, MACs and non-host addresses", async () => {
  await withEnv(makeLan({ hosts: 1 }), async (lan) => {
    const s = lan.hosts[0]!;
    // Not a whole number is a TypeError, out of range a RangeError (stack/validate.ts).
    for (const mtu of [0, -1, NaN, 67, 65536, 1500.5]) {
      await refused(
        s,
        Number.isInteger(mtu) ? RangeError : TypeError,
        `MTU ${mtu}`,
        () => s.addInterface({ driver: fakeDriver(), mtu, addresses: ["10.9.0.1/24"] }),
      );
    }
    await refused(
      s,
      RangeError,
      "5-byte MAC",
      () => s.addInterface({ driver: fakeDriver(), mac: new Uint8Array(5) }),
    );
    await refused(
      s,
      RangeError,
      "multicast MAC",
      () => s.addInterface({ driver: fakeDriver(), mac: new Uint8Array([1, 0, 0x5e, 0, 0, 1]) }),
    );
    for (
      const a of ["224.0.0.1/4", "255.255.255.255/32", "0.0.0.0/0", "10.9.0.255/24", "ff02::1/64"]
    ) {
      await refused(
        s,
        RangeError,
        `address ${a}`,
        () => s.addInterface({ driver: fakeDriver(), addresses: [a] }),
      );
      await refused(
        s,
        RangeError,
        `addAddress ${a}`,
        () => s.addAddress(s.interfaces.list()[0]!.name, a),
      );
    }
    // A good one still works.
    const i = s.addInterface({ driver: fakeDriver(), mtu: 68, addresses: ["10.9.0.1/24"] });
    assert.equal(i.mtu, 68);
  });
});

Deno.test("api addRoute refuses our own address as gateway and a bad or foreign source", async () => {
  await withEnv(makeLan({ hosts: 1 }), async (lan) => {
    const s = lan.hosts[0]!;
    await refused(
      s,
      RangeError,
      "own gateway",
      () => s.addRoute("192.168.0.0/16", { gateway: "10.0.0.1" }),
    );
    await refused(
      s,
      RangeError,
      "broadcast gateway",
      () => s.addRoute("192.168.0.0/16", { gateway: "10.0.0.255" }),
    );
    await refused(
      s,
      TypeError,
      "unparsable source",
      () => s.addRoute("192.168.0.0/16", { gateway: "10.0.0.254", source: "bogus" }),
    );
    await refused(
      s,
      Deno.errors.AddrNotAvailable,
      "foreign source",
      () => s.addRoute("192.168.0.0/16", { gateway: "10.0.0.254", source: "10.0.0.9" }),
    );
    await refused(
      s,
      TypeError,
      "metric NaN",
      () => s.addRoute("192.168.0.0/16", { gateway: "10.0.0.254", metric: NaN }),
    );
    s.addRoute("192.168.0.0/16", { gateway: "10.0.0.254", source: "10.0.0.1" });
    assert.equal(s.routeGet("192.168.1.1")!.source, "10.0.0.1");
  });
});

Deno.test("api TCP write and read refuse non-Uint8Array buffers; setLinger refuses NaN", async () => {
  await withEnv(makeLan({ hosts: 2 }), async (lan) => {
    const [a, b] = lan.hosts as Stack[];
    const listener = b!.listen({ port: 80 });
    const [client, server] = await lan.run(() =>
      Promise.all([a!.connect({ hostname: "10.0.0.2", port: 80 }), listener.accept()])
    );
    // deno-lint-ignore no-explicit-any
    const loose = client as any;
    await refused(a!, TypeError, 'write("hello")', () => loose.write("hello"));
    await refused(a!, TypeError, "read([])", () => loose.read([]));
    await refused(a!, TypeError, "setLinger(NaN)", () => client.setLinger(NaN));
    await refused(a!, RangeError, "setLinger(-1)", () => client.setLinger(-1));
    client.setLinger(null);
    client.close();
    server.close();
    listener.close();
    lan.runFor(120_000_000);
  });
});

Deno.test("api a second close() throws BadResource for UDP as for TCP", async () => {
  await withEnv(makeLan({ hosts: 2 }), async (lan) => {
    const [a, b] = lan.hosts as Stack[];
    const udp = a!.listenDatagram({ transport: "udp", port: 53 });
    // deno-lint-ignore no-explicit-any
    const looseUdp = udp as any;
    await refused(
      a!,
      TypeError,
      'UDP send("hello")',
      () => looseUdp.send("hello", { hostname: "10.0.0.2", port: 53 }),
    );
    await refused(a!, TypeError, "UDP receive([])", () => looseUdp.receive([]));
    udp.close();
    await refused(a!, Deno.errors.BadResource, "UDP close twice", () => udp.close());
    const listener = b!.listen({ port: 80 });
    const [client, server] = await lan.run(() =>
      Promise.all([a!.connect({ hostname: "10.0.0.2", port: 80 }), listener.accept()])
    );
    client.close();
    assert.throws(() => client.close(), Deno.errors.BadResource);
    server.close();
    listener.close();
    lan.runFor(120_000_000);
  });
});
