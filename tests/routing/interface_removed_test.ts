/**
 * A router losing an interface mid-transfer (`Stack.removeInterface`, as
 * `ip link del` or a USB NIC unplugged): traffic takes the backup route,
 * frames in flight to the removed end are dropped once and accounted, the
 * run is deterministic, and the captures are clean. Then sockets as Linux
 * keeps them when their interface goes.
 *
 * ```
 *  H1 10.1.0.10 ── lan1 ── 10.1.0.1 R1 10.12.0.1 ══ a (2 ms) ══ 10.12.0.2 R2 10.3.0.1 ── lan3 ── 10.3.0.30 H3
 *                                  10.13.0.1 ── b (backup) ── 10.13.0.2
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import { inFlightSlabBytes } from "../../drivers/loopback/_wire.ts";
import { Capture, EnvBase, makeLink, ms, pluginsWith } from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { receiveAll, sendAll } from "../tcp/_transfer.ts";

const SECOND = 1_000_000;
const TOTAL = 1 << 20;
const CUT_AT = 256 * 1024;

/** The two-path network, R1 preferring link a both ways (R2 too). */
function makeTwoPaths(seed: number) {
  const net = new VirtualNetwork({ seed });
  const lan1 = new Capture();
  const lan3 = new Capture();
  const base = new EnvBase(net, lan1);
  const routerPlugins = pluginsWith({ ipv4: { forwarding: true } });
  const h1 = base.newStack("h1");
  const r1 = base.newStack("r1", routerPlugins);
  const r2 = base.newStack("r2", routerPlugins);
  const h3 = base.newStack("h3");
  const first = net.link({ name: "lan1" });
  const a = net.link({ name: "a", faults: { delay: ms(2) } });
  const b = net.link({ name: "b", faults: { delay: ms(5) } });
  const last = net.link({ name: "lan3" });
  h1.addInterface({ name: "eth0", driver: lan1.tap(first.a), addresses: ["10.1.0.10/24"] });
  r1.addInterface({ name: "eth0", driver: first.b, addresses: ["10.1.0.1/24"] });
  r1.addInterface({ name: "eth1", driver: a.a, addresses: ["10.12.0.1/24"] });
  r1.addInterface({ name: "eth2", driver: b.a, addresses: ["10.13.0.1/24"] });
  r2.addInterface({ name: "eth0", driver: a.b, addresses: ["10.12.0.2/24"] });
  r2.addInterface({ name: "eth1", driver: b.b, addresses: ["10.13.0.2/24"] });
  r2.addInterface({ name: "eth2", driver: last.a, addresses: ["10.3.0.1/24"] });
  h3.addInterface({ name: "eth0", driver: lan3.tap(last.b), addresses: ["10.3.0.30/24"] });
  h1.addRoute("default", { gateway: "10.1.0.1" });
  h3.addRoute("default", { gateway: "10.3.0.1" });
  r1.addRoute("10.3.0.0/24", { gateway: "10.12.0.2", metric: 0 });
  r1.addRoute("10.3.0.0/24", { gateway: "10.13.0.2", metric: 10 });
  r2.addRoute("10.1.0.0/24", { gateway: "10.12.0.1", metric: 0 });
  r2.addRoute("10.1.0.0/24", { gateway: "10.13.0.1", metric: 10 });
  net.runFor(0);
  return Object.assign(base, { h1, r1, r2, h3, a, b, lan1, lan3 });
}

/**
 * H1 sends {@linkcode TOTAL} bytes to H3; once H3 has {@linkcode CUT_AT},
 * R1 loses eth1 and R2 sees its end of link a lose carrier (the cable went
 * with the NIC).
 */
async function transferWithCut(seed: number) {
  const n = makeTwoPaths(seed);
  const listener = n.h3.listen({ hostname: "10.3.0.30", port: 5001 });
  let cutAt = -1;
  const [sent, got] = await n.run(async () => {
    const accepted = listener.accept();
    const conn = await n.h1.connect({ hostname: "10.3.0.30", port: 5001 });
    const peer = await accepted;
    const reader = (async () => {
      const buf = new Uint8Array(65536);
      let bytes = 0;
      const rest = { bytes: 0, hash: "" };
      for (;;) {
        const k = await peer.read(buf);
        if (k === null) break;
        bytes += k;
        if (cutAt < 0 && bytes >= CUT_AT) {
          cutAt = n.net.clock.now();
          n.r1.removeInterface("eth1");
          n.r2.setLinkUp("eth0", false);
          break;
        }
      }
      const tail = await receiveAll(peer);
      rest.bytes = bytes + tail.bytes;
      peer.close();
      return rest;
    })();
    const hash = await sendAll(conn, seed, TOTAL);
    const got = await reader;
    conn.close();
    return [hash, got] as const;
  }, { timeout: 120 * SECOND });
  listener.close();
  return { n, sent, got, cutAt };
}

Deno.test("routing: R1 loses its link to R2 mid-transfer; the transfer ends over the backup link, frames in flight to the removed end are dropped once", async () => {
  const { n, got, cutAt } = await transferWithCut(1);
  assert.ok(cutAt > 0, "the interface was removed mid-transfer");
  assert.equal(got.bytes, TOTAL);
  assert.deepEqual(n.r1.routes().filter((r) => r.interface === "eth1" || r.interface === "1"), []);
  assert.equal(n.r1.routeGet("10.3.0.30")?.interface, "eth2");
  // Link b carried the rest: R1 forwarded over it after the cut.
  assert.ok(n.b.lanes[0].stats.delivered > 100, `${n.b.lanes[0].stats.delivered} frames on b`);
  // ACKs R2 had sent over link a were in flight to R1's removed end.
  const toR1 = n.a.lanes[1].stats;
  assert.ok(toR1.dropped.detached > 0, "some frame was in flight to the removed end");
  assert.equal(toR1.sent, toR1.delivered + toR1.dropped.detached + toR1.dropped.loss);
  assert.equal(n.a.lanes[0].stats.dropped.detached, 0);
  assert.equal(n.r1.interfaces.byName("eth1"), undefined);
  n.finish();
  assert.equal(inFlightSlabBytes(), 0, "every frame's in-flight count given back");
  for (const cap of [n.lan1, n.lan3]) await assertTsharkClean(cap.bytes());
});

Deno.test("routing: the same seed gives the same captures with an interface removed mid-transfer", async () => {
  const one = await transferWithCut(2);
  const two = await transferWithCut(2);
  assert.equal(one.got.bytes, TOTAL);
  assert.equal(one.cutAt, two.cutAt);
  assert.deepEqual(one.n.lan1.bytes(), two.n.lan1.bytes());
  assert.deepEqual(one.n.lan3.bytes(), two.n.lan3.bytes());
  one.n.finish();
  two.n.finish();
});

/** Runs `fn` and returns the name of the error it rejects with. */
async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (e) {
    return (e as Error).name;
  }
  return "none";
}

Deno.test("sockets when their interface is removed: TCP keeps its state and times out on its own timers, a listener stays open, new sends find no route", async () => {
  const env = makeLink({ seed: 1 });
  const listener = env.b.listen({ hostname: "10.0.0.2", port: 80 });
  const mine = env.a.listen({ hostname: "10.0.0.1", port: 81 });
  const [conn, peer] = await env.run(() =>
    Promise.all([env.a.connect({ hostname: "10.0.0.2", port: 80 }), listener.accept()])
  );
  env.a.removeInterface("eth0");
  // As Linux: the connection is still established and a write is buffered.
  assert.ok(env.a.sockets().some((s: { state: string }) => s.state === "ESTABLISHED"));
  assert.equal(await env.run(() => conn.write(new Uint8Array(100))), 100);
  const start = env.net.clock.now();
  assert.equal(await failure(env.run(() => conn.read(new Uint8Array(10)))), "TimedOut");
  // Its retransmissions (tcp_retries2 = 15) ran out: Linux's 924.6 s.
  const waited = (env.net.clock.now() - start) / SECOND;
  assert.ok(waited > 900 && waited < 950, `${waited} s`);
  // A listener bound to the address stays open.
  assert.deepEqual(mine.addr, { transport: "tcp", hostname: "10.0.0.1", port: 81 });
  assert.ok(env.a.sockets().some((s: { state: string }) => s.state === "LISTEN"));
  assert.equal(
    await failure(env.run(() => env.a.connect({ hostname: "10.0.0.2", port: 80 }))),
    "NetworkUnreachable",
  );
  const udp = env.a.listenDatagram({ hostname: "0.0.0.0", port: 99, transport: "udp" });
  assert.equal(
    await failure(
      env.run(() =>
        udp.send(new Uint8Array(1), { hostname: "10.0.0.2", port: 9, transport: "udp" })
      ),
    ),
    "NetworkUnreachable",
  );
  udp.close();
  mine.close();
  listener.close();
  conn.close();
  peer.close();
  env.finish();
});
