/**
 * Urgent data (RFC 6093): the urgent pointer points past the urgent byte;
 * received urgent bytes stay in the stream by default (SO_OOBINLINE) or are
 * taken out of it for `readUrgent()`; URG probes (hping3 `-U`, nmap's
 * xmas scan) and nonsense pointers change nothing.
 */
import assert from "node:assert/strict";
import { ipv4Packet, ms } from "../_harness.ts";
import {
  activeOpen,
  fromPeer,
  one,
  parseSegsWith,
  type PassiveConn,
  passiveOpen,
  Peer,
  readText,
  type Seg,
  tcpChecksum,
  tcpSegment,
  text,
} from "./_tcp.ts";
import type { TcpFields } from "./_tcp.ts";

/** A segment the stack sent, with its urgent pointer field. */
interface UrgSeg extends Seg {
  readonly urgent: number;
}

function withUrgent(frames: Uint8Array[]): UrgSeg[] {
  return parseSegsWith(frames, (f) => {
    const ihl = (f[0]! & 15) * 4;
    return { urgent: (f[ihl + 18]! << 8) | f[ihl + 19]! };
  });
}

function take(peer: Peer): UrgSeg[] {
  return withUrgent(peer.takeFrames());
}

/** Injects a segment whose urgent pointer field is `urgent`. */
function sendUrg(peer: Peer, f: TcpFields, urgent: number): UrgSeg[] {
  const seg = tcpSegment({ ...f, checksum: 0 }, peer.addr, peer.stackAddr);
  seg[18] = urgent >> 8;
  seg[19] = urgent & 255;
  seg[16] = seg[17] = 0;
  const c = tcpChecksum(seg, peer.addr, peer.stackAddr);
  seg[16] = c >> 8;
  seg[17] = c & 255;
  const bytes = ipv4Packet({ src: peer.addr, dst: peer.stackAddr, protocol: 6 }, seg);
  return withUrgent(peer.host.inject(bytes));
}

/** A passive connection whose receiver takes urgent bytes out of the stream (`oobInline` off). */
async function oobReceiver(): Promise<{ peer: Peer; p: PassiveConn }> {
  const peer = new Peer();
  const p = await passiveOpen(peer);
  p.conn.setOobInline(false);
  return { peer, p };
}

Deno.test("tcp ESTABLISHED + sendUrgent() → URG with the pointer past the urgent byte, until it is acknowledged", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  assert.equal(await c.conn.sendUrgent(0x21), 1);
  const s = one(take(peer), { flags: "P.U", len: 1, seq: c.sndNxt }) as UrgSeg;
  assert.equal(s.urgent, 1, "RFC 6093: the pointer points to the byte after the urgent one");
  assert.equal(s.payload[0], 0x21);
  peer.send({ srcPort: 80, dstPort: c.port, seq: c.peerNxt, ack: c.sndNxt + 1, flags: "." });
  await c.conn.write(text("after"));
  const next = one(take(peer), { flags: "P.", len: 5 }) as UrgSeg;
  assert.equal(next.urgent, 0);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp sendUrgent() behind unacknowledged data: every segment up to the byte carries URG", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  c.conn.setNoDelay(true);
  await c.conn.write(text("abc"));
  await c.conn.sendUrgent(0x7f);
  const segs = take(peer);
  assert.equal(segs.length, 2);
  assert.equal(segs[0]!.urgent, 0, "sent before urgent mode");
  assert.equal(segs[1]!.urgent, 1);
  // A retransmission of the first segment while the urgent byte is outstanding: URG, pointer 4.
  peer.host.runFor(ms(1500));
  const rtx = take(peer);
  const first = rtx.find((s) => s.seq === c.sndNxt);
  assert.ok(first !== undefined, "retransmitted");
  assert.ok(first.flags.includes("U") && first.urgent === 4, `URG pointer ${first.urgent}`);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + data with URG (inline, the default) → the urgent byte stays in the stream", async () => {
  const peer = new Peer();
  const p = await passiveOpen(peer);
  const f = fromPeer(p, { flags: "P.U", payload: text("abc") });
  one(sendUrg(peer, f, 3), { flags: ".", ack: p.peerNxt + 3 });
  assert.equal(await readText(p.conn, 3), "abc");
  assert.equal(p.conn.readUrgent(), null);
  assert.equal(peer.counter("urgent_received"), 1);
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (oobInline off) + data with URG → readUrgent() has the byte, read() skips it", async () => {
  const { peer, p } = await oobReceiver();
  sendUrg(peer, fromPeer(p, { flags: "P.U", payload: text("abc") }), 3);
  assert.equal(p.conn.readUrgent(), "c".charCodeAt(0));
  assert.equal(p.conn.readUrgent(), null, "once");
  peer.send(fromPeer(p, { seq: p.peerNxt + 3, flags: "P.", payload: text("de") }));
  assert.equal(await readText(p.conn, 4), "abde");
  // Read first, then readUrgent: the byte was taken out as the read reached it.
  sendUrg(peer, fromPeer(p, { seq: p.peerNxt + 5, flags: "P.U", payload: text("xyz") }), 2);
  assert.equal(await readText(p.conn, 2), "xz");
  assert.equal(p.conn.readUrgent(), "y".charCodeAt(0));
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp URG probes change nothing: pointer 0, a pointer far past the data, URG on a SYN, a xmas probe", async () => {
  const { peer, p } = await oobReceiver();
  sendUrg(peer, fromPeer(p, { flags: "P.U", payload: text("ab") }), 0); // pointer 0
  assert.equal(await readText(p.conn, 2), "ab");
  assert.equal(p.conn.readUrgent(), null);
  // hping3 -U: URG without data, pointer 0xffff (ahead of anything sent): nothing to read.
  sendUrg(peer, fromPeer(p, { seq: p.peerNxt + 2, flags: ".U" }), 0xffff);
  assert.equal(p.conn.readUrgent(), null);
  peer.send(fromPeer(p, { seq: p.peerNxt + 2, flags: "P.", payload: text("cd") }));
  assert.equal(await readText(p.conn, 2), "cd");
  // URG on a SYN to a listener, and nmap's xmas (FIN PSH URG) to a closed port.
  one(sendUrg(peer, { srcPort: 40001, dstPort: 80, seq: 9, flags: "SU" }, 5), { flags: "S." });
  one(sendUrg(peer, { srcPort: 40002, dstPort: 81, seq: 9, flags: "FPU" }, 1), { flags: "R." });
  assert.equal(peer.state(40000), "ESTABLISHED");
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp sendUrgent() validates its argument", async () => {
  const peer = new Peer();
  const c = await activeOpen(peer);
  assert.throws(() => c.conn.sendUrgent(256), RangeError);
  assert.throws(() => c.conn.sendUrgent(1.5), TypeError);
  c.conn.close();
  peer.finish();
});

Deno.test("tcp URG on a segment partly old: the pointer counts from the segment's own sequence number", async () => {
  const { peer, p } = await oobReceiver();
  peer.send(fromPeer(p, { flags: "P.", payload: text("ab") }));
  // A retransmission overlapping "ab", now with more data and the urgent byte "d".
  sendUrg(peer, fromPeer(p, { flags: "P.U", payload: text("abcde") }), 4);
  assert.equal(p.conn.readUrgent(), "d".charCodeAt(0));
  assert.equal(await readText(p.conn, 4), "abce");
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (oobInline off) + URG pointing into the next segment → readUrgent() null until it arrives, read() stops before it and skips it", async () => {
  const { peer, p } = await oobReceiver();
  // Pointer 5 from "abc": the urgent byte is the fifth, "e", not here yet.
  sendUrg(peer, fromPeer(p, { flags: "P.U", payload: text("abc") }), 5);
  assert.equal(p.conn.readUrgent(), null, "not arrived yet");
  assert.equal(await readText(p.conn, 3), "abc");
  sendUrg(peer, fromPeer(p, { seq: p.peerNxt + 3, flags: "P.U", payload: text("defg") }), 2);
  assert.equal(p.conn.readUrgent(), "e".charCodeAt(0));
  assert.equal(await readText(p.conn, 3), "dfg");
  assert.equal(p.conn.readUrgent(), null, "once");
  p.conn.close();
  p.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED (oobInline off): URG in a zero window still announces the urgent byte (RFC 9293: URG accepted with RCV.WND 0)", async () => {
  const peer = new Peer({ plugins: { tcp: { receiveBuffer: 4096 } } });
  const p = await passiveOpen(peer);
  p.conn.setOobInline(false);
  let seq = p.peerNxt;
  let closed = false;
  for (let i = 0; i < 20 && !closed; i++) {
    const out = peer.send(
      fromPeer(p, { seq, flags: "P.", payload: new Uint8Array(1000).fill(97) }),
      ms(300),
    );
    const a = out.at(-1);
    if (a === undefined) continue;
    seq = a.ack;
    closed = a.window === 0;
  }
  assert.ok(closed, "the window closes");
  const filled = seq - p.peerNxt;
  // A probe byte with URG pointing at it: the data is dropped, the URG kept.
  sendUrg(peer, fromPeer(p, { seq, flags: "P.U", payload: text("!") }), 1);
  assert.equal(p.conn.readUrgent(), null, "not received yet");
  assert.equal((await readText(p.conn, filled)).length, filled);
  // The byte again once there is room, without URG: known urgent from the probe.
  peer.send(fromPeer(p, { seq, flags: "P.", payload: text("!xy") }));
  assert.equal(p.conn.readUrgent(), "!".charCodeAt(0));
  assert.equal(await readText(p.conn, 2), "xy");
  p.conn.close();
  p.listener.close();
  peer.finish();
});
