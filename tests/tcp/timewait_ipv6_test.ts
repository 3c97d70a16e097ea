/**
 * Compact TIME-WAIT records of IPv6 connections (`timewait_table.ts` keeps
 * their addresses in an array made at the first IPv6 record, beside the
 * rows): the records survive the rows doubling, are found again by their
 * tuple, show their addresses in `ss`, and end after 2×MSL.
 */
import assert from "node:assert/strict";
import { tcpPair } from "../../bench/_tcp_pair.ts";

const CONNS = 40; // the rows double from 16 to 64

Deno.test("tcp TIME-WAIT records of IPv6 connections are kept, found and ended across row growth (40 connections)", async () => {
  const p = tcpPair({ family: 6 });
  const ports: number[] = [];
  await p.net.run(async () => {
    for (let i = 0; i < CONNS; i++) {
      const [c, s] = await Promise.all([
        p.a.connect({ hostname: "fd00::2", port: 5001 }),
        p.listener.accept(),
      ]);
      ports.push(c.localAddr.port);
      c.close(); // a closes first: a holds TIME-WAIT
      s.close();
    }
  }, { timeout: 60_000_000 });
  p.net.runFor(100_000); // the last close completes
  const tw = p.a.sockets().filter((s) => s.state === "TIME-WAIT");
  assert.equal(tw.length, CONNS);
  assert.deepEqual(
    tw.map((s) => s.local).sort(),
    ports.map((port) => `[fd00::1]:${port}`).sort(),
  );
  assert.ok(tw.every((s) => s.remote === "[fd00::2]:5001"));
  // Each record still holds its tuple: connecting from its port again is refused.
  for (const port of [ports[0]!, ports[CONNS - 1]!]) {
    await assert.rejects(
      p.net.run(() => p.a.connect({ hostname: "fd00::2", port: 5001, localPort: port })),
      Deno.errors.AddrInUse,
    );
  }
  p.net.runFor(61_000_000);
  assert.equal(p.a.sockets().filter((s) => s.state === "TIME-WAIT").length, 0);
  p.close();
});
