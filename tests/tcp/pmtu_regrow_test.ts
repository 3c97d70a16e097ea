/**
 * A live connection's MSS after the learned path MTU expires (RFC 1191
 * §6.3): it follows the route's MTU back up, bounded by the peer's MSS, and
 * a bottleneck still on the path lowers it again with its next "fragmentation
 * needed". The path is `H1 ─1500─ R1 ─1280─ R2 ─1500─ H2` with learned path
 * MTUs kept 30 s.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { makePath } from "./_transfer.ts";
import { pattern } from "./_tcp.ts";
import type { Ipv4RoutesService } from "../../stack/services.ts";
import type { TcpConn } from "../../stack/sockets/types.ts";

const EXPIRY = ms(30_000);
const TS = 12; // timestamps option, in every segment
const LOW = 1280 - 40 - TS;
const HIGH = 1500 - 40 - TS;

async function move(from: TcpConn, to: TcpConn, data: Uint8Array): Promise<Uint8Array> {
  const got = new Uint8Array(data.length);
  const w = (async () => {
    let off = 0;
    while (off < data.length) off += await from.write(data.subarray(off));
  })();
  let n = 0;
  while (n < data.length) n += (await to.read(got.subarray(n)))!;
  await w;
  return got;
}

Deno.test("tcp ESTABLISHED + learned path MTU expires → MSS grows back to the route's MTU, then lowered again by the bottleneck", async () => {
  const env = makePath({ midMtu: 1280, hostPlugins: { ipv4: { pmtuExpiry: EXPIRY } } });
  const l = env.h2.listen({ port: 9000 });
  const [c, s] = await env.run(() =>
    Promise.all([env.h1.connect({ hostname: "10.3.0.30", port: 9000 }), l.accept()])
  );
  const mss = () => env.h1.sockets().find((x) => x.remote === "10.3.0.30:9000")!.mss;
  const updates = () => env.h1.counters.get("tcp.pmtu_updates").value;
  assert.equal(mss(), HIGH);
  const first = pattern(50_000);
  assert.deepEqual(await env.run(() => move(c, s, first)), first);
  assert.equal(mss(), LOW, "lowered by R1's fragmentation needed");
  assert.equal(updates(), 1);
  const learnedAt = env.net.now();
  // While the learned MTU is in force the MSS stays down.
  env.runFor(EXPIRY - ms(1_000));
  assert.equal(mss(), LOW);
  // It expires: the route's MTU is the interface's 1500 again, and so is the MSS.
  env.runFor(learnedAt + EXPIRY - env.net.now());
  assert.equal(mss(), HIGH);
  assert.equal(updates(), 2);
  // The bottleneck is still there: the next full-sized segment brings it down again.
  const second = pattern(50_000, 7);
  assert.deepEqual(await env.run(() => move(c, s, second)), second);
  assert.equal(mss(), LOW);
  assert.equal(updates(), 3);
  assert.equal(env.h1.counters.get("tcp.timeouts").value, 0);
  c.close();
  s.close();
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});

Deno.test("tcp ESTABLISHED + learned path MTU lowered again before it expires → MSS does not grow until the newer one expires", async () => {
  const env = makePath({ midMtu: 1280, hostPlugins: { ipv4: { pmtuExpiry: EXPIRY } } });
  const l = env.h2.listen({ port: 9000 });
  const [c, s] = await env.run(() =>
    Promise.all([env.h1.connect({ hostname: "10.3.0.30", port: 9000 }), l.accept()])
  );
  const mss = () => env.h1.sockets().find((x) => x.remote === "10.3.0.30:9000")!.mss;
  await env.run(() => move(c, s, pattern(50_000)));
  assert.equal(mss(), LOW);
  const learnedAt = env.net.now();
  // Half-way, another report lowers the estimate further (a new entry, 30 s from now).
  env.runFor(EXPIRY / 2);
  const routes = env.h1.service<Ipv4RoutesService>("ipv4.routes")!;
  const dst = 0x0a03001e; // 10.3.0.30
  assert.equal(routes.learnPmtu(dst, 1000), 1000);
  // The first estimate's time passes: the route's MTU did not grow, nor does the MSS.
  env.runFor(learnedAt + EXPIRY + ms(1_000) - env.net.now());
  assert.equal(mss(), LOW);
  // The newer estimate expires: the route is back at 1500, so is the MSS.
  env.runFor(learnedAt + EXPIRY / 2 + EXPIRY - env.net.now());
  assert.equal(mss(), HIGH);
  c.close();
  s.close();
  l.close();
  env.runFor(ms(70_000));
  env.finish();
});
