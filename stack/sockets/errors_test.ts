import assert from "node:assert/strict";
import { createStack, type Stack } from "../../mod.ts";
import { mapIpv4, parseHostname, parseHostText, unmapIpv4 } from "./address.ts";
import {
  checkHostname,
  checkPort,
  checkSocketHost,
  checkZone,
  MAX_WAITING_CALLS,
} from "./errors.ts";

function stack(): Stack {
  const s = createStack({ seed: 1 });
  s.addInterface({
    driver: { linkType: 101, mtu: 1500, attach() {}, transmit: (p) => p.release(), close() {} },
    addresses: ["10.0.0.1/24"],
  });
  return s;
}

Deno.test("parseHostname() takes IPv4, IPv6 and localhost, and nothing else", () => {
  assert.equal(parseHostname("10.0.0.1")?.toString(), "10.0.0.1");
  assert.equal(parseHostname("::")?.toString(), "::");
  assert.equal(parseHostname("localhost")?.toString(), "127.0.0.1");
  for (const bad of ["", "example.com", "10.0.0", "010.0.0.1", "::g", 5, null]) {
    assert.equal(parseHostname(bad), null, String(bad));
    assert.throws(() => checkHostname(bad, "Cannot x"), TypeError, String(bad));
  }
});

Deno.test("checkPort(): TypeError when not an integer (as Deno), RangeError out of range", () => {
  assert.equal(checkPort(0, "x", true), 0);
  assert.equal(checkPort(65535, "x", false), 65535);
  for (const bad of [0, -1, 65536, 1e10]) {
    assert.throws(() => checkPort(bad, "x", false), RangeError, String(bad));
  }
  for (const bad of ["80", undefined, null, 80n, 1.5, NaN, Infinity, -0.5]) {
    assert.throws(() => checkPort(bad, "x", false), TypeError, String(bad));
  }
});

Deno.test("tcp and udp give the same error class for the same mistake", async () => {
  const s = stack();
  const udp = s.listenDatagram({ transport: "udp" });
  const mistakes: [unknown, unknown, ErrorConstructor][] = [
    ["10.0.0.2", 70000, RangeError],
    ["10.0.0.2", 0, RangeError],
    ["10.0.0.2", -1, RangeError],
    ["10.0.0.2", 1.5, TypeError],
    ["10.0.0.2", NaN, TypeError],
    ["10.0.0.2", "80", TypeError],
    ["example.com", 80, TypeError],
    [7, 80, TypeError],
    ["0.0.0.0", 80, TypeError],
  ];
  for (const [hostname, port, cls] of mistakes) {
    const what = `${String(hostname)}:${String(port)}`;
    const to = { hostname: hostname as string, port: port as number };
    await assert.rejects(s.connect(to), cls, `tcp ${what}`);
    await assert.rejects(udp.send(new Uint8Array(1), to), cls, `udp ${what}`);
    assert.throws(() => udp.connect(to), cls, `udp connect ${what}`);
  }
  for (const [port, cls] of [[70000, RangeError], [-1, RangeError], [1.5, TypeError]] as const) {
    assert.throws(() => s.listen({ port }), cls, `tcp listen ${port}`);
    assert.throws(() => s.listenDatagram({ transport: "udp", port }), cls, `udp listen ${port}`);
  }
  for (const hostname of ["example.com", "10.0.0"]) {
    assert.throws(() => s.listen({ hostname, port: 1 }), TypeError, `tcp listen ${hostname}`);
    assert.throws(
      () => s.listenDatagram({ transport: "udp", hostname, port: 1 }),
      TypeError,
      `udp listen ${hostname}`,
    );
  }
  udp.close();
  s.close();
});

Deno.test("tcp and udp: a buffer that is not a Uint8Array is a TypeError", async () => {
  const s = stack();
  const listener = s.listen({ hostname: "localhost", port: 80 });
  const [c, a] = await Promise.all([
    s.connect({ hostname: "localhost", port: 80 }),
    listener.accept(),
  ]);
  const udp = s.listenDatagram({ transport: "udp" });
  const bad = "hello" as unknown as Uint8Array;
  await assert.rejects(c.write(bad), TypeError);
  await assert.rejects(c.read([] as unknown as Uint8Array), TypeError);
  await assert.rejects(udp.send(bad, { hostname: "10.0.0.2", port: 7 }), TypeError);
  for (const x of [c, a, listener, udp]) x.close();
  s.close();
});

Deno.test("tcp and udp: every use after close, closing twice included, is BadResource (as Deno)", async () => {
  const s = stack();
  const listener = s.listen({ hostname: "localhost", port: 80 });
  const [c, a] = await Promise.all([
    s.connect({ hostname: "localhost", port: 80 }),
    listener.accept(),
  ]);
  const udp = s.listenDatagram({ transport: "udp" });
  c.close();
  udp.close();
  listener.close();
  const bad = Deno.errors.BadResource;
  assert.throws(() => c.close(), bad, "tcp close twice");
  assert.throws(() => udp.close(), bad, "udp close twice");
  assert.throws(() => listener.close(), bad, "listener close twice");
  await assert.rejects(c.read(new Uint8Array(4)), bad);
  await assert.rejects(c.read(new Uint8Array(0)), bad);
  await assert.rejects(c.write(new Uint8Array(4)), bad);
  await assert.rejects(c.closeWrite(), bad);
  assert.throws(() => c.setNoDelay(true), bad);
  assert.throws(() => c.setKeepAlive(true), bad);
  assert.throws(() => c.setLinger(0), bad);
  await assert.rejects(udp.receive(), bad);
  await assert.rejects(udp.send(new Uint8Array(1), { hostname: "10.0.0.2", port: 7 }), bad);
  assert.throws(() => udp.connect({ hostname: "10.0.0.2", port: 7 }), bad);
  assert.throws(() => udp.setTTL(5), bad);
  await assert.rejects(listener.accept(), bad);
  // Disposal after close is quiet for all three (Deno's too).
  c[Symbol.dispose]();
  udp[Symbol.dispose]();
  listener[Symbol.dispose]();
  a.close();
  s.close();
});

Deno.test("tcp and udp: number options NaN → TypeError, out of range → RangeError", async () => {
  const s = stack();
  const to = { hostname: "10.0.0.2", port: 80 };
  await assert.rejects(s.connect({ ...to, timeout: NaN }), TypeError);
  await assert.rejects(s.connect({ ...to, timeout: -1 }), RangeError);
  await assert.rejects(s.connect({ ...to, localPort: 1.5 }), TypeError);
  await assert.rejects(s.connect({ ...to, localPort: 70000 }), RangeError);
  assert.throws(() => s.listen({ port: 1, backlog: NaN }), TypeError);
  assert.throws(() => s.listen({ port: 1, backlog: -1 }), RangeError);
  assert.throws(() => s.listenDatagram({ transport: "udp", ttl: NaN }), TypeError);
  assert.throws(() => s.listenDatagram({ transport: "udp", ttl: 256 }), RangeError);
  const udp = s.listenDatagram({ transport: "udp" });
  assert.throws(() => udp.setTTL(1.5), TypeError);
  assert.throws(() => udp.setTTL(0), RangeError);
  const listener = s.listen({ hostname: "localhost", port: 80 });
  const [c, a] = await Promise.all([
    s.connect({ hostname: "localhost", port: 80 }),
    listener.accept(),
  ]);
  assert.throws(() => c.setLinger(NaN), TypeError);
  assert.throws(() => c.setLinger(-1), RangeError);
  // Nothing was left behind by the failed calls: one listener, one connection pair.
  assert.equal(s.sockets().length, 3);
  for (const x of [c, a, listener, udp]) x.close();
  s.close();
});

Deno.test("tcp and udp both take localhost (127.0.0.1)", async () => {
  const s = stack();
  const server = s.listenDatagram({ transport: "udp", hostname: "localhost", port: 5000 });
  assert.equal(server.addr.hostname, "127.0.0.1");
  const client = s.listenDatagram({ transport: "udp" });
  assert.equal(await client.send(new Uint8Array([1, 2]), { hostname: "localhost", port: 5000 }), 2);
  const [data, from] = await server.receive();
  assert.deepEqual([...data], [1, 2]);
  assert.equal(from.hostname, "127.0.0.1");
  const listener = s.listen({ hostname: "localhost", port: 80 });
  const [c, a] = await Promise.all([
    s.connect({ hostname: "localhost", port: 80 }),
    listener.accept(),
  ]);
  assert.equal(c.remoteAddr.hostname, "127.0.0.1");
  for (const x of [c, a, listener, client, server]) x.close();
  s.close();
});

Deno.test("tcp and udp: one call too many waiting on a socket is Busy, the same limit for both", async () => {
  const s = stack();
  const listener = s.listen({ hostname: "localhost", port: 80 });
  const [c, a] = await Promise.all([
    s.connect({ hostname: "localhost", port: 80 }),
    listener.accept(),
  ]);
  const udp = s.listenDatagram({ transport: "udp" });
  const reads: Promise<unknown>[] = [];
  const accepts: Promise<unknown>[] = [];
  for (let i = 0; i < MAX_WAITING_CALLS; i++) {
    reads.push(c.read(new Uint8Array(1)), udp.receive());
    accepts.push(listener.accept());
  }
  await assert.rejects(c.read(new Uint8Array(1)), Deno.errors.Busy);
  await assert.rejects(listener.accept(), Deno.errors.Busy);
  await assert.rejects(udp.receive(), Deno.errors.Busy);
  for (const x of [c, a, listener, udp]) x.close();
  // Closing settles every waiting call: reads and receives cut short
  // (Interrupted), accepts BadResource, as Deno's (errors.ts's table).
  for (const r of await Promise.allSettled(reads)) {
    assert.ok(r.status === "rejected" && r.reason instanceof Deno.errors.Interrupted);
  }
  for (const r of await Promise.allSettled(accepts)) {
    assert.ok(r.status === "rejected" && r.reason instanceof Deno.errors.BadResource);
  }
  s.close();
});

Deno.test("parseHostText() takes brackets and zones on IPv6 only, as Deno and glibc do", () => {
  const cases: [string, string | null, string][] = [
    ["[::1]", "::1", ""],
    ["fe80::1%eth0", "fe80::1", "eth0"],
    ["[fe80::1%2]", "fe80::1", "2"],
    ["FE80::A%tun-0.1", "fe80::a", "tun-0.1"],
    ["::ffff:10.0.0.2", "::ffff:10.0.0.2", ""],
    ["10.0.0.1%eth0", null, ""],
    ["fe80::1%", null, ""],
    ["[fe80::1", null, ""],
    ["[]", null, ""],
    ["%eth0", null, ""],
  ];
  for (const [text, address, zone] of cases) {
    const h = parseHostText(text);
    assert.equal(h?.address.toString() ?? null, address, text);
    if (h !== null) assert.equal(h.zone, zone, text);
  }
});

Deno.test("checkSocketHost(): zones count for link-local and multicast only; mapped means IPv4", () => {
  const zones = (z: string) => z === "eth0" || z === "0" ? 0 : undefined;
  assert.equal(checkSocketHost("fe80::1%eth0", "x", zones).scope, 0);
  assert.equal(checkSocketHost("ff02::1%0", "x", zones).scope, 0);
  assert.equal(
    checkSocketHost("fd00::1%eth0", "x", zones).scope,
    -1,
    "a global address has no zone",
  );
  assert.equal(checkSocketHost("fe80::1", "x", zones).scope, -1);
  assert.throws(() => checkSocketHost("fe80::1%eth1", "x", zones), TypeError);
  assert.throws(
    () => checkSocketHost("fd00::1%eth1", "x", zones),
    TypeError,
    "checked even if ignored",
  );
  assert.equal(checkSocketHost("fe80::1%7", "x").scope, 7, "without a resolver: decimal indexes");
  assert.throws(() => checkSocketHost("fe80::1%eth0", "x"), TypeError);
  const m = checkSocketHost("::ffff:10.0.0.2", "x");
  assert.deepEqual([m.address.family, m.address.toString(), m.mapped], [4, "10.0.0.2", true]);
  assert.equal(mapIpv4(m.address).toString(), "::ffff:10.0.0.2");
  assert.equal(unmapIpv4(mapIpv4(m.address))?.toString(), "10.0.0.2");
  assert.equal(unmapIpv4(parseHostname("::10.0.0.2")!), null, "IPv4-compatible is not mapped");
});

Deno.test("checkZone(): a link-local peer needs its zone or a zoned link-local local address; a link-local local address needs its zone", () => {
  const peer = checkSocketHost("fe80::2", "x");
  assert.throws(() => checkZone(peer, undefined, "Cannot connect"), TypeError);
  assert.throws(
    () => checkZone(peer, checkSocketHost("fd00::1", "x"), "Cannot connect"),
    TypeError,
  );
  // Linux's bind(): EINVAL for fe80::1 without its zone, whatever the peer.
  assert.throws(
    () => checkZone(peer, checkSocketHost("fe80::1", "x"), "Cannot connect"),
    TypeError,
  );
  assert.throws(
    () =>
      checkZone(checkSocketHost("fd00::2", "x"), checkSocketHost("fe80::1", "x"), "Cannot connect"),
    TypeError,
  );
  checkZone(peer, checkSocketHost("fe80::1%3", "x"), "Cannot connect");
  assert.throws(
    () =>
      checkZone(
        checkSocketHost("fe80::2%4", "x"),
        checkSocketHost("fe80::1%3", "x"),
        "Cannot connect",
      ),
    TypeError,
  );
  checkZone(checkSocketHost("fe80::2%3", "x"), undefined, "Cannot connect");
  checkZone(checkSocketHost("fd00::2", "x"), undefined, "Cannot connect");
});
