/**
 * A router whose prerouting hook asks for whole datagrams (`defrag: true`,
 * as a connection tracker does) forwards what arrived in fragments as
 * Linux does with `frag_max_size`: in fragments no larger than the largest
 * it came in (IPv4 `ip_do_fragment`, IPv6 `ip6_fragment`, at least 1280),
 * and answers "too big" (Fragmentation Needed with DF, Packet Too Big)
 * only when that largest fragment exceeds the outgoing MTU. The fragments
 * here are built by hand, not by the stack's fragmenters.
 */
import assert from "node:assert/strict";
import { ACCEPT } from "../../stack/manifest.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv4Packet, makeHost, testPlugin } from "../_harness.ts";

const PROTO = 253; // RFC 3692 experimentation: forwarded, never looked into

/** A router on two raw-IP links: `in` (the test injects) and `out` (MTU `outMtu`, recorded). */
function router(outMtu: number) {
  const ct = testPlugin({
    name: "ct",
    layer: "middlebox",
    hooks: [{ point: "prerouting", defrag: true }],
  }, () => ({ hook: () => ACCEPT }));
  const h = makeHost({
    linkType: 101,
    addresses: ["10.1.0.1/24", "fd01::1/64"],
    extraPlugins: [ct],
    plugins: { ipv4: { forwarding: true }, ipv6: { forwarding: true } },
  });
  const link = h.net.link({ linkType: 101, mtu: outMtu });
  const out: Uint8Array[] = [];
  link.b.attach({
    pool: h.net.pool,
    ifindex: 0,
    now: () => h.net.now(),
    receive(pkt: PacketBuffer): void {
      out.push(pkt.data.slice()); // copy: kept after the buffer is released
      pkt.release();
    },
  });
  h.stack.addInterface({ driver: link.a, addresses: ["10.2.0.1/24", "fd02::1/64"] });
  h.net.runFor(0);
  out.length = 0;
  h.take();
  return { h, out };
}

function ramp(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

/** IPv4 fragments of `payload` from 10.1.0.9 to 10.2.0.9, each carrying at most `chunk` bytes. */
function v4Fragments(payload: Uint8Array, chunk: number, dontFragment = false): Uint8Array[] {
  const frags: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(payload.length, off + chunk));
    frags.push(ipv4Packet({
      src: "10.1.0.9",
      dst: "10.2.0.9",
      protocol: PROTO,
      id: 0x4242,
      dontFragment,
      moreFragments: off + chunk < payload.length,
      fragmentOffset: off >> 3,
    }, part));
  }
  return frags;
}

/** The payload an IPv4 datagram's fragments carry, in offset order; checks each header. */
function v4Reassemble(frags: Uint8Array[]): Uint8Array {
  const parts = frags.map((f) => {
    const dv = new DataView(f.buffer, f.byteOffset);
    assert.equal(dv.getUint16(2), f.length, "total length");
    assert.equal(f[8], 63, "TTL decremented once");
    return { off: (dv.getUint16(6) & 0x1fff) << 3, data: f.subarray((f[0]! & 15) * 4) };
  }).sort((a, b) => a.off - b.off);
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.data.length, 0));
  for (const p of parts) whole.set(p.data, p.off);
  return whole;
}

const V6_SRC = IpAddress.parse("fd01::9")!.bytes();
const V6_DST = IpAddress.parse("fd02::9")!.bytes();

/** IPv6 fragments (Fragment header, id 0x01020304) of `payload`, at most `chunk` bytes each. */
function v6Fragments(payload: Uint8Array, chunk: number): Uint8Array[] {
  const frags: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(payload.length, off + chunk));
    const p = new Uint8Array(48 + part.length);
    const dv = new DataView(p.buffer);
    p[0] = 0x60;
    dv.setUint16(4, 8 + part.length);
    p[6] = 44; // Fragment
    p[7] = 64;
    p.set(V6_SRC, 8);
    p.set(V6_DST, 24);
    p[40] = PROTO;
    dv.setUint16(42, off | (off + chunk < payload.length ? 1 : 0));
    dv.setUint32(44, 0x01020304);
    p.set(part, 48);
    frags.push(p);
  }
  return frags;
}

/** The payload IPv6 fragments carry, in offset order; checks each header. */
function v6Reassemble(frags: Uint8Array[]): Uint8Array {
  const parts = frags.map((f) => {
    const dv = new DataView(f.buffer, f.byteOffset);
    assert.equal(40 + dv.getUint16(4), f.length, "payload length");
    assert.equal(f[6], 44, "a Fragment header");
    assert.equal(f[7], 63, "hop limit decremented once");
    assert.equal(f[40], PROTO);
    return { off: dv.getUint16(42) & 0xfff8, data: f.subarray(48) };
  }).sort((a, b) => a.off - b.off);
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.data.length, 0));
  for (const p of parts) whole.set(p.data, p.off);
  return whole;
}

Deno.test("refragment ipv4: a datagram that came in 572-byte fragments leaves in fragments no larger, though the out link takes 1500", () => {
  const { h, out } = router(1500);
  const payload = ramp(1008);
  const frags = v4Fragments(payload, 552);
  for (const f of frags) h.inject(f);
  assert.equal(h.counter("ipv4.rx.reassembled"), 1);
  assert.deepEqual(out.map((f) => f.length), [572, 476]);
  assert.deepEqual(v4Reassemble(out), payload);
  h.finish();
});

Deno.test("refragment ipv4: DF fragments of 1500 bytes fit a 1500 link and leave refragmented, not refused", () => {
  const { h, out } = router(1500);
  const payload = ramp(2960);
  for (const f of v4Fragments(payload, 1480, true)) h.inject(f);
  assert.equal(h.counter("ipv4.rx.fwd_frag_needed"), 0);
  assert.deepEqual(out.map((f) => f.length), [1500, 1500]);
  assert.deepEqual(v4Reassemble(out), payload);
  h.finish();
});

Deno.test("refragment ipv4: DF fragments of 1500 bytes towards a 1280 link get Fragmentation Needed with MTU 1280", () => {
  const { h, out } = router(1280);
  let back: Uint8Array[] = [];
  for (const f of v4Fragments(ramp(2960), 1480, true)) back = back.concat(h.inject(f));
  assert.equal(out.length, 0);
  assert.equal(h.counter("ipv4.rx.fwd_frag_needed"), 1);
  const icmp = back.find((f) => f[9] === 1)!;
  assert.deepEqual([icmp[20], icmp[21]], [3, 4], "destination unreachable, fragmentation needed");
  assert.equal(new DataView(icmp.buffer, icmp.byteOffset).getUint16(26), 1280);
  h.finish();
});

Deno.test("refragment ipv6: a packet that came in 1280-byte fragments leaves in fragments no larger towards a 1500 link, not Packet Too Big", () => {
  const { h, out } = router(1500);
  const payload = ramp(3000);
  for (const f of v6Fragments(payload, 1232)) h.inject(f);
  assert.equal(h.counter("ipv6.rx.reassembled"), 1);
  assert.equal(h.counter("ipv6.rx.fwd_too_big"), 0);
  assert.deepEqual(out.map((f) => f.length), [1280, 1280, 584]);
  assert.deepEqual(v6Reassemble(out), payload);
  h.finish();
});

Deno.test("refragment ipv6: fragments smaller than 1280 leave refragmented at 1280 (Linux's floor)", () => {
  const { h, out } = router(1500);
  const payload = ramp(3000);
  for (const f of v6Fragments(payload, 600)) h.inject(f);
  assert.ok(out.length >= 3, `${out.length} fragments`);
  assert.equal(out[0]!.length, 1280);
  assert.ok(out.every((f) => f.length <= 1280));
  assert.deepEqual(v6Reassemble(out), payload);
  h.finish();
});

Deno.test("refragment ipv6: fragments of 1400 bytes towards a 1280 link get Packet Too Big with MTU 1280", () => {
  const { h, out } = router(1280);
  let back: Uint8Array[] = [];
  for (const f of v6Fragments(ramp(3000), 1352)) back = back.concat(h.inject(f));
  assert.equal(out.length, 0);
  assert.equal(h.counter("ipv6.rx.fwd_too_big"), 1);
  const ptb = back.find((f) => f[6] === 58 && f[40] === 2)!;
  assert.equal(new DataView(ptb.buffer, ptb.byteOffset).getUint32(44), 1280);
  h.finish();
});
