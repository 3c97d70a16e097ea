import assert from "node:assert/strict";
import {
  createStack,
  type DatagramConn,
  DEFAULT_PLUGINS,
  type Stack,
  udpPlugin,
} from "../../mod.ts";

/** A stack (no interfaces needed to bind 0.0.0.0) with UDP options. */
function stackWith(seed: number, udp: Record<string, number> = {}): Stack {
  return createStack({
    seed,
    plugins: DEFAULT_PLUGINS.map((p) => p === udpPlugin ? { plugin: p, options: udp } : p),
  });
}

Deno.test("udp ephemeral ports: 10,000 binds, no collision, all in 49152..65535, spread out", () => {
  const stack = stackWith(42);
  const conns: DatagramConn[] = [];
  const ports = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const c = stack.listenDatagram({ transport: "udp" });
    conns.push(c);
    const p = c.addr.port;
    assert.ok(p >= 49152 && p <= 65535, `port ${p} out of range`);
    ports.add(p);
  }
  assert.equal(ports.size, 10_000, "every port distinct");
  // RFC 6056 randomness: the first 1,000 ports spread over the range (16
  // buckets of 1024 ports, expected 62.5 each) and are not sequential.
  const first = conns.slice(0, 1000).map((c) => c.addr.port);
  const buckets = new Array(16).fill(0);
  for (const p of first) buckets[Math.floor((p - 49152) / 1024)]++;
  for (const n of buckets) assert.ok(n > 30 && n < 100, `bucket counts ${buckets}`);
  let successive = 0;
  for (let i = 1; i < first.length; i++) if (first[i] === first[i - 1]! + 1) successive++;
  assert.ok(successive < 20, `${successive} successive ports`);
  for (const c of conns) c.close();
  stack.close();
});

Deno.test("udp ephemeral ports never take an explicitly bound port", () => {
  const stack = stackWith(1, { ephemeralPortMin: 50000, ephemeralPortMax: 50003 });
  const fixed = [50000, 50002].map((port) => stack.listenDatagram({ transport: "udp", port }));
  const picked = [0, 1].map(() => stack.listenDatagram({ transport: "udp" }));
  assert.deepEqual(picked.map((c) => c.addr.port).sort(), [50001, 50003]);
  for (const c of [...fixed, ...picked]) c.close();
  stack.close();
});

Deno.test("udp ephemeral ports exhausted → AddrInUse, and closing frees one", () => {
  const stack = stackWith(1, { ephemeralPortMin: 50000, ephemeralPortMax: 50009 });
  const conns = Array.from({ length: 10 }, () => stack.listenDatagram({ transport: "udp" }));
  assert.equal(new Set(conns.map((c) => c.addr.port)).size, 10);
  assert.throws(() => stack.listenDatagram({ transport: "udp" }), Deno.errors.AddrInUse);
  const freed = conns[3]!.addr.port;
  conns[3]!.close();
  const again = stack.listenDatagram({ transport: "udp" });
  assert.equal(again.addr.port, freed);
  for (const c of [...conns, again]) c[Symbol.dispose](); // conns[3] is closed already
  stack.close();
});

Deno.test("udp ephemeral ports depend only on the stack's seed", () => {
  const sequence = (seed: number) => {
    const stack = stackWith(seed);
    const conns = Array.from({ length: 5 }, () => stack.listenDatagram({ transport: "udp" }));
    const ports = conns.map((c) => c.addr.port);
    stack.close();
    return ports;
  };
  assert.deepEqual(sequence(7), sequence(7));
  assert.notDeepEqual(sequence(7), sequence(8));
});

Deno.test("udp maxSockets bounds the socket table: Busy beyond it", () => {
  const stack = stackWith(1, { maxSockets: 3 });
  const conns = Array.from({ length: 3 }, () => stack.listenDatagram({ transport: "udp" }));
  assert.throws(() => stack.listenDatagram({ transport: "udp" }), Deno.errors.Busy);
  for (const c of conns) c.close();
  stack.close();
});

Deno.test("udp a bad ephemeral port range fails at boot", () => {
  assert.throws(
    () => stackWith(1, { ephemeralPortMin: 60000, ephemeralPortMax: 50000 }),
    RangeError,
  );
});
