import assert from "node:assert/strict";
import { activeOpen, one, pattern, Peer } from "./_tcp.ts";

Deno.test("tcp ESTABLISHED + one 8000-byte super-segment (TSO/GRO, above our MSS) → ACK at once, not after 40 ms", async () => {
  // A TUN device with offloads hands the stack segments far above its MSS.
  // "Every second full-sized segment" counts full segments of our MSS
  // (Linux's tcp_measure_rcv_mss caps at advmss), so one super-segment of
  // several MSS is acknowledged at the end of its batch.
  const peer = new Peer({ plugins: { tcp: { quickAcks: 0 } } });
  const c = await activeOpen(peer, 80, { mss: 1000 });
  const base = { srcPort: 80, dstPort: c.port, ack: c.sndNxt, flags: "." };
  one(peer.send({ ...base, seq: c.peerNxt, payload: pattern(8000) }), {
    flags: ".",
    ack: c.peerNxt + 8000,
  });
  // And the next one too: the estimate did not grow to 8000 bytes.
  one(peer.send({ ...base, seq: c.peerNxt + 8000, payload: pattern(8000) }), {
    flags: ".",
    ack: c.peerNxt + 16000,
  });
  const buf = new Uint8Array(16000);
  let got = 0;
  while (got < 16000) got += (await c.conn.read(buf.subarray(got))) ?? 0;
  assert.equal(got, 16000);
  c.conn.close();
  peer.finish();
});
