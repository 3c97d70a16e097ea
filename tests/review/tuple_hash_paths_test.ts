/**
 * `TcpEndpoint.tupleHash` (f1022f6): the connection table's hash, stored at
 * insert and reused by removal, regrowth and the TIME-WAIT record. A stale
 * hash would make a removal miss: the connection would stay listed (a
 * leak, a ghost answering segments). Every path that makes or re-keys a
 * connection is walked here, through the public API, and each stack must
 * end with nothing but its listeners: 200 connections at once (the buckets
 * grow to 256 and shrink back), either side closing first (TIME-WAIT
 * records on both), IPv6 global and link-local with a zone, a SYN that
 * takes over a TIME-WAIT tuple, and a simultaneous open (review17).
 */
import assert from "node:assert/strict";
import { createStack, SECOND, type Stack, type TcpConn, VirtualNetwork } from "../../mod.ts";

const enc = new TextEncoder();

/** Reads until the peer's FIN, returns the byte count. */
async function drain(conn: TcpConn): Promise<number> {
  const buf = new Uint8Array(256);
  let n = 0;
  for (let i = 0; i < 1000; i++) {
    const got = await conn.read(buf);
    if (got === null) return n;
    n += got;
  }
  throw new Error("no FIN after 1000 reads");
}

/** One exchange: a byte each way, then `first` closes, the other after the FIN. */
async function exchange(active: TcpConn, passive: TcpConn, activeFirst: boolean): Promise<void> {
  await active.write(enc.encode("a"));
  await passive.write(enc.encode("b"));
  const [closer, other] = activeFirst ? [active, passive] : [passive, active];
  closer.closeWrite();
  assert.equal(await drain(other), 1);
  other.close();
  assert.equal(await drain(closer), 1);
  closer.close();
}

/** Virtual time passes (the network's timers, not a real setTimeout). */
function sleep(net: VirtualNetwork, d: number): Promise<void> {
  return new Promise((resolve) => net.at(net.clock.now() + d, resolve));
}

function connections(s: Stack): string[] {
  return s.sockets().filter((i) => i.state !== "LISTEN").map((i) =>
    `${i.state} ${i.local} ${i.remote}`
  );
}

Deno.test("every connection path leaves the tables empty (tupleHash never stale)", async () => {
  const net = new VirtualNetwork({ seed: 5 });
  const link = net.link();
  const a = net.addNode(createStack({ clock: net.clock, seed: 1, strictCounters: true }));
  const b = net.addNode(createStack({ clock: net.clock, seed: 2, strictCounters: true }));
  a.addInterface({
    name: "eth0",
    driver: link.a,
    addresses: ["10.0.0.1/24", "fd00::1/64", "fe80::1/64"],
  });
  b.addInterface({
    name: "eth0",
    driver: link.b,
    addresses: ["10.0.0.2/24", "fd00::2/64", "fe80::2/64"],
  });
  const l4 = b.listen({ hostname: "0.0.0.0", port: 80, backlog: 256 });
  const l6 = b.listen({ hostname: "::", port: 81 });
  await net.run(async () => {
    await sleep(net, 5 * SECOND); // DAD done: the IPv6 addresses usable
    // 200 at once over IPv4, half closed first by each side.
    const pairs = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const c = await a.connect({ hostname: "10.0.0.2", port: 80 });
        return c;
      }),
    );
    const accepted: TcpConn[] = [];
    for (let i = 0; i < pairs.length; i++) accepted.push(await l4.accept());
    assert.equal(connections(a).length, 200);
    const byPort = new Map(accepted.map((s) => [(s.remoteAddr as Deno.NetAddr).port, s]));
    await Promise.all(
      pairs.map((c, i) =>
        exchange(c, byPort.get((c.localAddr as Deno.NetAddr).port)!, i % 2 === 0)
      ),
    );
    // IPv6, global and link-local (zone eth0).
    for (const hostname of ["fd00::2", "fe80::2%eth0"]) {
      for (let i = 0; i < 10; i++) {
        const c = await a.connect({ hostname, port: 81 });
        await exchange(c, await l6.accept(), i % 2 === 0);
      }
    }
    // The server closes first (TIME-WAIT on b), then the same tuple again:
    // the new SYN takes the TIME-WAIT connection over.
    for (let i = 0; i < 2; i++) {
      const c = await a.connect({ hostname: "10.0.0.2", port: 80, localPort: 40000 });
      await exchange(c, await l4.accept(), false);
    }
    // Simultaneous open: each connects to the other's port from its own.
    const [x, y] = await Promise.all([
      a.connect({ hostname: "10.0.0.2", port: 6000, localPort: 5000 }),
      b.connect({ hostname: "10.0.0.1", port: 5000, localPort: 6000 }),
    ]);
    await exchange(x, y, true);
    assert.ok(connections(a).some((c) => c.startsWith("TIME-WAIT")));
    assert.ok(connections(b).some((c) => c.startsWith("TIME-WAIT")));
    await sleep(net, 130 * SECOND); // every 2 MSL over
    assert.deepEqual(connections(a), []);
    assert.deepEqual(connections(b), []);
  }, { timeout: 300 * SECOND });
  l4.close();
  l6.close();
  assert.deepEqual(b.sockets(), []);
  a.close();
  b.close();
  net.close();
});
