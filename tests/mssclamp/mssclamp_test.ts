/**
 * TCP MSS clamping on a router whose far side has a smaller MTU: the SYN
 * and the SYN-ACK announce what fits the narrow link, so the transfer needs
 * neither fragmentation nor path MTU discovery; IPv4 and IPv6.
 */
import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import { mssClampPlugin } from "../../stack/protocols/mssclamp/mod.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { makeRoutedNet } from "../routing/_topology.ts";
import { makeRoutedNet6 } from "../ipv6/_topology6.ts";

/** [flags, MSS] of every TCP SYN in `frames` (IP header at `l3`), in order. */
function synMss(frames: Uint8Array[], l3: number): [number, number][] {
  const out: [number, number][] = [];
  for (const f of frames) {
    const v = f[l3]! >> 4;
    if (v === 4 && f[l3 + 9] !== 6 || v === 6 && f[l3 + 6] !== 6 || (v !== 4 && v !== 6)) continue;
    const tcp = l3 + (v === 4 ? (f[l3]! & 0x0f) * 4 : 40);
    if ((f[tcp + 13]! & 0x02) === 0) continue;
    const end = tcp + (f[tcp + 12]! >> 4) * 4;
    for (let at = tcp + 20; at < end;) {
      if (f[at] === 0) break;
      if (f[at] === 1) {
        at++;
        continue;
      }
      if (f[at] === 2) out.push([f[tcp + 13]!, (f[at + 2]! << 8) | f[at + 3]!]);
      at += f[at + 1]!;
    }
  }
  return out;
}

/** Sends `n` bytes from `a` to `b`'s listener at `host`:9 and checks they arrive. */
async function transfer(a: Stack, b: Stack, host: string, n: number): Promise<void> {
  using l = b.listen({ hostname: host, port: 9 });
  const [c, s] = await Promise.all([a.connect({ hostname: host, port: 9 }), l.accept()]);
  const data = new Uint8Array(n).map((_, i) => (i * 13) & 0xff);
  const writing = (async () => {
    for (let w = 0; w < n;) w += await c.write(data.subarray(w));
    c.close();
  })();
  const got = new Uint8Array(n + 1);
  let at = 0;
  for (;;) {
    const r = await s.read(got.subarray(at));
    if (r === null) break;
    at += r;
  }
  await writing;
  s.close();
  assert.equal(at, n);
  assert.deepEqual(got.subarray(0, n), data);
}

Deno.test("mssclamp IPv4: SYN and SYN-ACK clamped to the 1000-byte middle link (MSS 960), no fragments", async () => {
  const n = makeRoutedNet({
    midMtu: 1000,
    routerExtraPlugins: (name) => name === "r1" ? [mssClampPlugin] : [],
  });
  await n.run(() => transfer(n.h1, n.h3, "10.3.0.30", 50_000));
  // H1 announced 1460; H3 got 960. H3 announced 1460; H1 got 960.
  assert.deepEqual(synMss(n.lan1.frames(), 14), [[0x02, 1460], [0x12, 960]]);
  assert.deepEqual(synMss(n.lan3.frames(), 14), [[0x02, 960], [0x12, 1460]]);
  assert.equal(n.r1.counters.value("mssclamp.clamped"), 2);
  assert.equal(n.r1.counters.value("ipv4.rx.fwd_frag_needed"), 0);
  for (const c of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("mssclamp IPv6: clamped to the 1280-byte middle link (MSS 1220), no Packet Too Big", async () => {
  const n = makeRoutedNet6({ midMtu: 1280, r1Plugins: [mssClampPlugin] });
  await n.run(() => transfer(n.h1, n.h3, "fd03::30", 50_000));
  assert.deepEqual(synMss(n.lan1.frames(), 0), [[0x02, 1440], [0x12, 1220]]);
  assert.deepEqual(synMss(n.lan3.frames(), 0), [[0x02, 1220], [0x12, 1440]]);
  assert.equal(n.r1.counters.value("mssclamp.clamped"), 2);
  assert.equal(n.r1.counters.value("ipv6.rx.fwd_too_big"), 0);
  const tooBig = n.lan1.frames().filter((f) => f[6] === 58 && f[40] === 2);
  assert.equal(tooBig.length, 0);
  for (const c of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(c.bytes());
  n.finish();
});

Deno.test("mssclamp without the plugin: the same transfer needs path MTU discovery (the test can fail)", async () => {
  const n = makeRoutedNet({ midMtu: 1000 });
  await n.run(() => transfer(n.h1, n.h3, "10.3.0.30", 50_000));
  assert.deepEqual(synMss(n.lan3.frames(), 14), [[0x02, 1460], [0x12, 1460]]);
  assert.ok(n.r1.counters.value("ipv4.rx.fwd_frag_needed") > 0);
  n.finish();
});
