/**
 * `ipv4.send` with options and with `HEADER_INCLUDED` (raw IP), and Record
 * Route across routers. A raw-IP host 10.0.0.1 whose peer is the test.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { Ipv4SendFlags, type Ipv4Service } from "../../stack/services.ts";
import {
  checkEthernet,
  checkIcmp,
  checkIpv4,
  checksum,
  framesMatching,
  type Host,
  icmpEcho,
  ip,
  makeHost,
} from "../_harness.ts";
import { assertTsharkClean } from "../_tshark.ts";
import { parseIpv4Options } from "../../stack/wire/ipv4_options.ts";
import { makeRoutedNet } from "../routing/_topology.ts";

const US = ip("10.0.0.1");
const PEER = ip("10.0.0.2");
const RA = new Uint8Array([148, 4, 0, 0]);

function ipv4(stack: Stack): Ipv4Service {
  return stack.service<Ipv4Service>("ipv4.send")!;
}

function payload(stack: Stack, n: number): PacketBuffer {
  const p = stack.pool.alloc(n);
  for (let i = 0; i < n; i++) p.buf[p.start + i] = i & 0xff;
  return p;
}

function host(mtu?: number): Host {
  return makeHost({ linkType: 101, capture: true, ...(mtu ? { mtu } : {}) });
}

Deno.test("ipv4 send: Router Alert goes out in a 24-byte header with a valid checksum", async () => {
  const h = host();
  assert.equal(ipv4(h.stack).send(payload(h.stack, 8), 0, PEER, 253, 1, 0, RA), undefined);
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  const p = out[0]!;
  checkIpv4({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 253, ttl: 1 })(p);
  assert.equal(p[0], 0x46);
  assert.equal(p.length, 24 + 8);
  assert.deepEqual([...p.subarray(20, 24)], [...RA]);
  assert.equal(checksum(p.subarray(0, 24)), 0);
  await assertTsharkClean(h.capture!.bytes());
  h.finish();
});

Deno.test("ipv4 send: options are padded with End of Option List to a multiple of 4", () => {
  const h = host();
  ipv4(h.stack).send(payload(h.stack, 4), 0, PEER, 253, 0, 0, new Uint8Array([1, 1, 1, 1, 1]));
  h.runFor(0);
  const p = h.take()[0]!;
  assert.equal(p[0], 0x47);
  assert.deepEqual([...p.subarray(20, 28)], [1, 1, 1, 1, 1, 0, 0, 0]);
  assert.equal(checksum(p.subarray(0, 28)), 0);
  h.finish();
});

Deno.test("ipv4 send: Record Route gets our address as the datagram leaves", () => {
  const h = host();
  const rr = new Uint8Array([1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
  ipv4(h.stack).send(payload(h.stack, 4), 0, PEER, 253, 0, 0, rr);
  h.runFor(0);
  const p = h.take()[0]!;
  assert.deepEqual(parseIpv4Options(p.subarray(20, 32)), [
    { kind: "nop" },
    { kind: "record_route", pointer: 8, addresses: [US, 0] },
  ]);
  assert.equal(checksum(p.subarray(0, 32)), 0);
  assert.deepEqual([...rr], [1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]); // the caller's bytes untouched
  h.finish();
});

for (
  const [what, bad, error] of [
    ["a plain array", [148, 4, 0, 0], TypeError],
    ["41 bytes", new Uint8Array(41).fill(1), RangeError],
    ["Record Route with pointer 3", new Uint8Array([7, 7, 3, 0, 0, 0, 0]), RangeError],
    ["a length past the end", new Uint8Array([148, 8, 0, 0]), RangeError],
  ] as const
) {
  Deno.test(`ipv4 send: options as ${what} throw ${error.name} before anything is done`, () => {
    const h = host();
    const pkt = payload(h.stack, 4);
    assert.throws(
      () => ipv4(h.stack).send(pkt, 0, PEER, 253, 0, 0, bad as unknown as Uint8Array),
      error,
    );
    assert.equal(pkt.length, 4); // nothing prepended: still the caller's
    pkt.release();
    h.runFor(0);
    assert.deepEqual(h.take(), []);
    assert.equal(h.counter("ipv4.tx.packets"), 0);
    h.finish();
  });
}

Deno.test("ipv4 send: DF with options accounts for the longer header", () => {
  const h = host(576);
  const s = ipv4(h.stack);
  const opt = new Uint8Array([7, 7, 4, 0, 0, 0, 0]); // 8 bytes once padded
  assert.equal(
    s.send(payload(h.stack, 556), 0, PEER, 253, 0, Ipv4SendFlags.DONT_FRAGMENT, opt),
    "message_too_long",
  );
  assert.equal(
    s.send(payload(h.stack, 548), 0, PEER, 253, 0, Ipv4SendFlags.DONT_FRAGMENT, opt),
    undefined,
  );
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, 576);
  h.finish();
});

Deno.test("ipv4 send: fragments copy only options with the copy flag (RFC 791)", async () => {
  const h = host(576);
  // Router Alert (copied: type 148 has bit 0x80) and Record Route (type 7: not copied).
  const opt = new Uint8Array([148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0]);
  assert.equal(ipv4(h.stack).send(payload(h.stack, 1200), 0, PEER, 253, 0, 0, opt), undefined);
  h.runFor(0);
  const frags = h.take();
  assert.equal(frags.length, 3);
  const hl = frags.map((f) => (f[0]! & 0x0f) * 4);
  assert.deepEqual(hl, [32, 24, 24]);
  for (const f of frags) {
    assert.ok(f.length <= 576);
    assert.equal(checksum(f.subarray(0, (f[0]! & 0x0f) * 4)), 0);
  }
  assert.deepEqual(parseIpv4Options(frags[0]!.subarray(20, 32)), [
    { kind: "router_alert", value: 0 },
    { kind: "record_route", pointer: 8, addresses: [US] },
    { kind: "end" },
  ]);
  assert.deepEqual([...frags[1]!.subarray(20, 24)], [...RA]);
  // Offsets continue across the differing header lengths; the data is intact.
  const data = new Uint8Array(1200);
  let expect = 0;
  for (const f of frags) {
    const dv = new DataView(f.buffer, f.byteOffset);
    const off = (dv.getUint16(6) & 0x1fff) * 8;
    assert.equal(off, expect);
    const body = f.subarray((f[0]! & 0x0f) * 4, dv.getUint16(2));
    data.set(body, off);
    expect += body.length;
  }
  assert.equal(expect, 1200);
  assert.ok(data.every((b, i) => b === (i & 0xff)));
  await assertTsharkClean(h.capture!.bytes());
  h.finish();
});

/** A raw IPv4 header + ICMP echo request: src, id, total length and checksum left 0. */
function rawEcho(stack: Stack, dst: number, extra: number[] = []): PacketBuffer {
  const icmp = icmpEcho({ identifier: 7, sequence: 1 });
  const hlen = 20 + extra.length;
  const p = stack.pool.alloc(hlen + icmp.length);
  const b = p.buf;
  const s = p.start;
  b.fill(0, s, s + hlen);
  b[s] = 0x40 | (hlen >> 2);
  b[s + 1] = 0xb8; // DSCP EF: kept
  b[s + 6] = 0x40; // DF
  b[s + 8] = 7; // TTL: kept
  b[s + 9] = 1;
  p.dv.setUint32(s + 16, dst);
  b.set(extra, s + 20);
  b.set(icmp, s + hlen);
  return p;
}

Deno.test("ipv4 send HEADER_INCLUDED: fills source, id, total length and checksum, keeps the rest", async () => {
  const h = host();
  // The dst, protocol and ttl arguments are ignored: the header's are used.
  const err = ipv4(h.stack).send(
    rawEcho(h.stack, PEER),
    0,
    0,
    99,
    200,
    Ipv4SendFlags.HEADER_INCLUDED,
  );
  assert.equal(err, undefined);
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  const p = out[0]!;
  checkIpv4(
    { src: "10.0.0.1", dst: "10.0.0.2", protocol: 1, ttl: 7 },
    checkIcmp({ type: 8, identifier: 7, sequence: 1 }),
  )(p);
  const dv = new DataView(p.buffer, p.byteOffset);
  assert.equal(p[1], 0xb8);
  assert.equal(dv.getUint16(2), 20 + 64);
  assert.notEqual(dv.getUint16(4), 0);
  assert.equal(dv.getUint16(6), 0x4000);
  assert.equal(h.counter("ipv4.tx.packets"), 1);
  await assertTsharkClean(h.capture!.bytes(), { allowWarnings: [/No response seen/] });
  h.finish();
});

Deno.test("ipv4 send HEADER_INCLUDED: a given source and id are kept; options are sent as given", () => {
  const h = host();
  const pkt = rawEcho(h.stack, PEER, [7, 7, 3, 0, 0, 0, 0, 0]); // malformed on purpose
  pkt.dv.setUint32(pkt.start + 12, ip("10.0.0.9"));
  pkt.dv.setUint16(pkt.start + 4, 0xbeef);
  assert.equal(ipv4(h.stack).send(pkt, 0, 0, 0, 0, Ipv4SendFlags.HEADER_INCLUDED), undefined);
  h.runFor(0);
  const p = h.take()[0]!;
  const dv = new DataView(p.buffer, p.byteOffset);
  assert.equal(dv.getUint32(12), ip("10.0.0.9"));
  assert.equal(dv.getUint16(4), 0xbeef);
  assert.deepEqual([...p.subarray(20, 28)], [7, 7, 3, 0, 0, 0, 0, 0]);
  assert.equal(checksum(p.subarray(0, 28)), 0);
  h.finish();
});

Deno.test("ipv4 send HEADER_INCLUDED: to our own address goes through the loopback path", () => {
  const h = host();
  assert.equal(
    ipv4(h.stack).send(rawEcho(h.stack, US), 0, 0, 0, 0, Ipv4SendFlags.HEADER_INCLUDED),
    undefined,
  );
  h.runFor(0);
  assert.equal(h.counter("icmp.rx.echo_requests"), 1);
  assert.equal(h.counter("icmp.rx.echo_replies"), 1); // our reply, to ourselves, unmatched
  assert.deepEqual(h.take(), []);
  h.finish();
});

Deno.test("ipv4 send HEADER_INCLUDED: larger than the MTU is refused, never fragmented", () => {
  const h = host(576);
  const icmpLen = 600;
  const p = h.stack.pool.alloc(20 + icmpLen);
  p.buf.fill(0, p.start, p.end);
  p.buf[p.start] = 0x45;
  p.buf[p.start + 9] = 1;
  p.dv.setUint32(p.start + 16, PEER);
  assert.equal(
    ipv4(h.stack).send(p, 0, 0, 0, 0, Ipv4SendFlags.HEADER_INCLUDED),
    "message_too_long",
  );
  assert.equal(h.counter("ipv4.tx.message_too_long"), 1);
  h.finish();
});

for (
  const [what, bytes] of [
    ["19 bytes", new Uint8Array(19).fill(0x45)],
    ["version 6", Uint8Array.of(0x65, ...new Array(19).fill(0))],
    ["IHL 4", Uint8Array.of(0x44, ...new Array(27).fill(0))],
    ["IHL 15 in 40 bytes", Uint8Array.of(0x4f, ...new Array(39).fill(0))],
  ] as const
) {
  Deno.test(`ipv4 send HEADER_INCLUDED: ${what} throws RangeError, nothing sent`, () => {
    const h = host();
    const pkt = h.stack.pool.alloc(bytes.length);
    pkt.buf.set(bytes, pkt.start);
    assert.throws(
      () => ipv4(h.stack).send(pkt, 0, PEER, 1, 0, Ipv4SendFlags.HEADER_INCLUDED),
      RangeError,
    );
    pkt.release();
    h.runFor(0);
    assert.deepEqual(h.take(), []);
    h.finish();
  });
}

Deno.test("ipv4 forward: Record Route collects every hop there and back (RFC 1812 §5.3.13.3)", async () => {
  const n = makeRoutedNet();
  await n.run(() => n.h1.ping("10.3.0.30")); // resolve the neighbours first
  const echo = icmpEcho({ identifier: 0x4242, sequence: 9 });
  const pkt = n.h1.pool.alloc(echo.length);
  pkt.buf.set(echo, pkt.start);
  const rr = new Uint8Array([1, 7, 39, 4, ...new Array(36).fill(0)]);
  assert.equal(ipv4(n.h1).send(pkt, 0, ip("10.3.0.30"), 1, 0, 0, rr), undefined);
  n.runFor(100_000);
  const replies = framesMatching(
    n.lan1.frames(),
    checkEthernet({}, checkIpv4({ dst: "10.1.0.10" }, checkIcmp({ type: 0, identifier: 0x4242 }))),
  );
  assert.equal(replies.length, 1);
  const r = replies[0]!.subarray(14);
  assert.deepEqual(parseIpv4Options(r.subarray(20, 60)), [
    {
      kind: "record_route",
      pointer: 32,
      addresses: [
        ip("10.1.0.10"), // H1 sends
        ip("10.12.0.1"), // R1 out
        ip("10.3.0.1"), // R2 out
        ip("10.3.0.30"), // H3 receives
        ip("10.3.0.30"), // H3 replies
        ip("10.12.0.2"), // R2 out
        ip("10.1.0.1"), // R1 out
        0,
        0,
      ],
    },
    { kind: "end" }, // the reply reflects RR alone (the NOP is not copied), padded
  ]);
  for (const cap of [n.lan1, n.mid, n.lan3]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("stack.sendRawIpv4() sends a copy through HEADER_INCLUDED; errors are thrown", () => {
  const h = host();
  const icmp = icmpEcho({ identifier: 3, sequence: 4 });
  const bytes = new Uint8Array(20 + icmp.length);
  bytes[0] = 0x45;
  bytes[8] = 64;
  bytes[9] = 1;
  new DataView(bytes.buffer).setUint32(16, PEER);
  bytes.set(icmp, 20);
  h.stack.sendRawIpv4(bytes);
  h.runFor(0);
  const out = h.take();
  assert.equal(out.length, 1);
  checkIpv4({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 1 }, checkIcmp({ type: 8 }))(out[0]!);
  assert.equal(bytes[10], 0); // the caller's bytes are not touched
  new DataView(bytes.buffer).setUint32(16, ip("192.0.2.1")); // no route there
  assert.throws(() => h.stack.sendRawIpv4(bytes), Deno.errors.NetworkUnreachable);
  assert.throws(() => h.stack.sendRawIpv4(bytes.subarray(0, 19)), RangeError);
  assert.throws(() => h.stack.sendRawIpv4([1, 2] as unknown as Uint8Array), TypeError);
  h.finish(); // and no buffer leaked
});
