/**
 * D-SACK generation (RFC 2883 §4): a segment received twice is reported in
 * the first SACK block of the ACK that answers it, whether it lay below
 * RCV.NXT or inside an out-of-order range already held; the capture decodes
 * in tshark with `tcp.options.sack_le` at the duplicate's left edge.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { assertTsharkClean, tsharkRows } from "../_tshark.ts";
import { gated } from "../_require.ts";
import { one, passiveOpen, pattern, Peer, type TcpFields } from "./_tcp.ts";

async function receiver(peer: Peer) {
  const p = await passiveOpen(peer, 80, 40000, { mss: 1460, sackOk: true });
  const data = (at: number, len: number): TcpFields => ({
    srcPort: 40000,
    dstPort: 80,
    seq: (p.peerNxt + at) >>> 0,
    ack: p.sndNxt,
    flags: ".",
    payload: pattern(len, at),
  });
  return { ...p, data };
}

Deno.test("tcp ESTABLISHED + segment below RCV.NXT again → ACK whose first SACK block is the duplicate (D-SACK)", async () => {
  const peer = new Peer();
  const r = await receiver(peer);
  one(peer.send(r.data(0, 100)), { ack: r.peerNxt + 100 });
  const a = one(peer.send(r.data(0, 100)), { ack: r.peerNxt + 100 });
  assert.deepEqual(a.sack, [[r.peerNxt, r.peerNxt + 100]]);
  assert.equal(peer.counter("dsacks_sent"), 1);
  // Reported once: the next ACK carries no SACK.
  const b = one(peer.send(r.data(100, 100)), { ack: r.peerNxt + 200 });
  assert.deepEqual(b.sack, []);
  r.conn.close();
  r.listener.close();
  peer.finish();
});

Deno.test("tcp ESTABLISHED + out-of-order segment again → D-SACK first, then the range holding it", async () => {
  const peer = new Peer();
  const r = await receiver(peer);
  const first = one(peer.send(r.data(200, 100)), { ack: r.peerNxt });
  assert.deepEqual(first.sack, [[r.peerNxt + 200, r.peerNxt + 300]]);
  const dup = one(peer.send(r.data(200, 100)), { ack: r.peerNxt });
  assert.deepEqual(dup.sack, [[r.peerNxt + 200, r.peerNxt + 300], [
    r.peerNxt + 200,
    r.peerNxt + 300,
  ]]);
  // With a newer range: the one holding the duplicate still comes second.
  one(peer.send(r.data(400, 100)), { ack: r.peerNxt });
  const two = one(peer.send(r.data(200, 100)), { ack: r.peerNxt });
  assert.deepEqual(two.sack, [
    [r.peerNxt + 200, r.peerNxt + 300],
    [r.peerNxt + 200, r.peerNxt + 300],
    [r.peerNxt + 400, r.peerNxt + 500],
  ]);
  // A segment overlapping RCV.NXT: only its old part is the duplicate.
  one(peer.send(r.data(0, 200)), { ack: r.peerNxt + 300 });
  one(peer.send(r.data(300, 100)), { ack: r.peerNxt + 500 });
  const part = one(peer.send(r.data(450, 100)), { ack: r.peerNxt + 550 });
  assert.deepEqual(part.sack, [[r.peerNxt + 450, r.peerNxt + 500]]);
  r.conn.close();
  r.listener.close();
  peer.finish();
});

Deno.test("tcp dsack off: duplicates get a plain ACK", async () => {
  const peer = new Peer({ plugins: { tcp: { dsack: false } } });
  const r = await receiver(peer);
  peer.send(r.data(0, 100));
  const a = one(peer.send(r.data(0, 100)), { ack: r.peerNxt + 100 });
  assert.deepEqual(a.sack, []);
  r.conn.close();
  r.listener.close();
  peer.finish();
});

Deno.test(
  gated(["tshark"], {
    name:
      "tcp D-SACK on the wire: tshark decodes sack_le/sack_re as the duplicate range, capture clean",
    fn: async () => {
      const peer = new Peer({ capture: true });
      const r = await receiver(peer);
      peer.send(r.data(0, 100));
      peer.wait(ms(1));
      peer.send(r.data(0, 100)); // the duplicate
      peer.wait(ms(1));
      assert.equal(await r.conn.read(new Uint8Array(200)), 100);
      r.conn.close();
      r.listener.close();
      peer.wait(ms(1));
      const bytes = peer.host.capture!.bytes();
      const rows = await tsharkRows(
        bytes,
        "tcp.options.sack_le",
        ["tcp.ack", "tcp.options.sack_le", "tcp.options.sack_re"],
        ["-o", "tcp.relative_sequence_numbers:FALSE"],
      );
      assert.deepEqual(rows, [[
        String(r.peerNxt + 100),
        String(r.peerNxt),
        String(r.peerNxt + 100),
      ]]);
      await assertTsharkClean(bytes, {
        allowWarnings: [/^D-SACK Sequence/, /^This frame is a \(suspected\) retransmission/],
      });
      peer.finish();
    },
  }),
);
