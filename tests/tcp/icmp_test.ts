/**
 * ICMP errors about our segments, delivered by the ICMP plugin through the
 * `ip.error` table: port unreachable aborts a connection still opening
 * (ConnectionRefused), "fragmentation needed" lowers the MSS and resends
 * (RFC 1191), other errors are soft and only named if the connection later
 * times out (RFC 1122 §4.2.3.9); errors quoting a sequence number outside
 * SND.UNA..SND.MAX are ignored (RFC 5927 §4.1).
 */
import assert from "node:assert/strict";
import { checksum, ipv4Packet, ms } from "../_harness.ts";
import { activeOpen, pattern, Peer, show, track } from "./_tcp.ts";

/** An ICMP error from `from` to the stack quoting `quoted` (an IP packet the stack sent). */
function icmpError(
  type: number,
  code: number,
  quoted: Uint8Array,
  info = 0,
  from = "10.0.0.2",
): Uint8Array {
  const m = new Uint8Array(8 + Math.min(quoted.length, 28 + 20));
  m[0] = type;
  m[1] = code;
  new DataView(m.buffer).setUint16(6, info);
  m.set(quoted.subarray(0, m.length - 8), 8);
  new DataView(m.buffer).setUint16(2, checksum(m));
  return ipv4Packet({ src: from, dst: "10.0.0.1", protocol: 1 }, m);
}

/** The IP packet bytes of the last frame the stack sent. */
function lastSent(peer: Peer): Uint8Array {
  peer.host.runFor(0);
  return peer.host.history.at(-1)!.bytes;
}

Deno.test("tcp SYN-SENT + ICMP port unreachable → connect() rejects ConnectionRefused", async () => {
  const peer = new Peer();
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const syn = lastSent(peer);
  peer.take();
  peer.sendRaw(icmpError(3, 3, syn));
  await t.done;
  assert.ok(t.error instanceof Deno.errors.ConnectionRefused, String(t.error));
  assert.equal(peer.state(80), undefined);
  peer.finish();
});

Deno.test("tcp SYN-SENT + ICMP host unreachable → soft error, named when connect() times out", async () => {
  const peer = new Peer({ plugins: { tcp: { synRetries: 1 } } });
  const t = track(peer.stack.connect({ hostname: "10.0.0.2", port: 80 }));
  const syn = lastSent(peer);
  peer.sendRaw(icmpError(3, 1, syn, 0, "10.0.0.254"));
  assert.equal(peer.state(80), "SYN-SENT");
  peer.wait(ms(4000));
  await t.done;
  assert.ok(t.error instanceof Deno.errors.TimedOut, String(t.error));
  assert.match(String((t.error as Error).message), /host unreachable/);
  peer.finish();
});

Deno.test("tcp ESTABLISHED + ICMP fragmentation needed → smaller segments resent", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1460 });
  await c.conn.write(pattern(3000));
  const sent = peer.take();
  const first = peer.host.history.at(-3)!.bytes; // the first full segment
  assert.deepEqual(sent.map((s) => s.payload.length), [1460, 1460, 80], show(sent));
  const out = peer.sendRaw(icmpError(3, 4, first, 1000, "10.0.0.254"));
  assert.ok(out.length >= 1, "resent at once");
  assert.ok(out.every((s) => s.payload.length <= 960), show(out));
  assert.equal(out[0]!.seq, c.sndNxt);
  assert.equal(peer.counter("pmtu_updates"), 1);
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.mss, 960);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ICMP error quoting a sequence number outside the window → ignored", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1460 });
  // A quote of our SYN: its sequence number is below SND.UNA now.
  const fake = icmpError(3, 3, synBytes(c.syn));
  peer.sendRaw(fake);
  assert.equal(peer.state(80), "ESTABLISHED");
  assert.equal(peer.counter("rx.icmp_bad_seq"), 1);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ICMP fragmentation needed quoting a sequence number outside the window → path MTU unchanged", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1460 });
  await c.conn.write(pattern(3000));
  peer.take();
  // A quote of our SYN (below SND.UNA), from an off-path attacker.
  peer.sendRaw(icmpError(3, 4, synBytes(c.syn), 576, "10.0.0.254"));
  assert.equal(peer.counter("rx.icmp_bad_seq"), 1);
  assert.equal(peer.counter("pmtu_updates"), 0);
  assert.equal(peer.stack.routeGet("10.0.0.2")!.mtu, 1500);
  // The same error quoting the first unacknowledged segment is believed.
  peer.sendRaw(icmpError(3, 4, peer.host.history.at(-3)!.bytes, 576, "10.0.0.254"));
  assert.equal(peer.stack.routeGet("10.0.0.2")!.mtu, 576);
  assert.equal(peer.counter("pmtu_updates"), 1);
  c.conn.close();
  peer.finish();
});

/** Rebuilds the IP packet of a parsed SYN (enough of it for a quote). */
function synBytes(s: { src: string; dst: string; srcPort: number; dstPort: number; seq: number }) {
  const tcp = new Uint8Array(20);
  const dv = new DataView(tcp.buffer);
  dv.setUint16(0, s.srcPort);
  dv.setUint16(2, s.dstPort);
  dv.setUint32(4, s.seq);
  tcp[12] = 0x50;
  tcp[13] = 0x02;
  return ipv4Packet({ src: s.src, dst: s.dst, protocol: 6 }, tcp);
}

Deno.test("tcp ESTABLISHED + ICMP port unreachable → soft error only (connection kept)", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer, 80, { mss: 1460 });
  await c.conn.write(pattern(100));
  const seg = lastSent(peer);
  peer.take();
  peer.sendRaw(icmpError(3, 3, seg));
  assert.equal(peer.state(80), "ESTABLISHED");
  // The data is still acknowledged normally.
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 100, flags: "." });
  assert.equal(peer.stack.sockets().find((s) => s.state === "ESTABLISHED")!.sendQ, 0);
  c.conn.close();
  peer.finish();
});
