/**
 * Review of conns43 (e18c9db): an active open makes its congestion control
 * only at the SYN-ACK. Probes of what runs before then with none made: a
 * connect() whose SYN-ACK never comes (every SYN retransmission, listings
 * between them, the connect timeout closing it in SYN-SENT), with ECN, Fast
 * Open data and each congestion control; a SYN-ACK after retransmissions
 * carrying ECN's answer; a simultaneous open. No plugin fault, nothing left
 * behind, and the connection that does open sends the Fast Open data intact.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { track } from "../_async.ts";
import { one, Peer } from "../tcp/_tcp.ts";

for (const cc of ["newreno", "cubic", "bbr"]) {
  for (const variant of ["plain", "ecn", "fastopen", "timeout"] as const) {
    Deno.test(`SYN-SENT review: no SYN-ACK ever (${cc}, ${variant}): every SYN resent, listed between them, connect fails, no fault, nothing left`, async () => {
      const peer = new Peer({ seed: 11 });
      const t = track(peer.stack.connect({
        hostname: peer.addr,
        port: 80,
        congestionControl: cc,
        ...(variant === "ecn" ? { ecn: true } : {}),
        ...(variant === "fastopen" ? { fastOpenData: new Uint8Array(100).fill(7) } : {}),
        ...(variant === "timeout" ? { timeout: 5000 } : {}),
      }));
      let syns = 0;
      for (let step = 0; step < 400 && !t.settled; step++) {
        for (const s of peer.wait(ms(500))) {
          if (s.flags.includes("S")) syns++;
        }
        const row = peer.info(80);
        if (row !== undefined) {
          assert.equal(row.state, "SYN-SENT");
          assert.equal(row.cc, cc);
          assert.ok((row.cwnd ?? 0) > 0);
        }
        await Promise.resolve();
      }
      await t.done;
      assert.ok(t.error !== undefined, "connect failed");
      assert.ok(syns >= 2, `${syns} SYNs`);
      assert.equal(peer.host.counter("tcp.fault"), 0, "no plugin fault");
      assert.equal(peer.info(80), undefined, "nothing left listed");
      peer.finish();
    });
  }
}

Deno.test("SYN-SENT review: a SYN-ACK after two SYN retransmissions, with ECN and Fast Open data, never listed before: the connection opens, the data goes out intact, no fault", async () => {
  const peer = new Peer({ seed: 12 });
  const data = new Uint8Array(300).map((_, i) => i & 0xff);
  const t = track(peer.stack.connect({
    hostname: peer.addr,
    port: 80,
    congestionControl: "cubic",
    ecn: true,
    fastOpenData: data,
  }));
  let syn = one(peer.take(), { flags: "SEW" });
  for (let i = 0; i < 2; i++) {
    const again = peer.wait(ms(4000)).filter((s) => s.flags.includes("S"));
    assert.ok(again.length >= 1, "the SYN resent");
    syn = again.at(-1)!;
  }
  // The SYN-ACK agrees to ECN and acknowledges only the SYN (no cookie).
  const out = peer.send({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 5000,
    ack: syn.seq + 1,
    flags: "SE.",
    options: { mss: 1400 },
  });
  await t.done;
  assert.ok(t.value !== undefined, String(t.error));
  const sent = [...out, ...peer.wait(ms(10))].filter((s) => s.payload.length > 0);
  const got = new Uint8Array(data.length);
  for (const s of sent) got.set(s.payload, (s.seq - syn.seq - 1) >>> 0);
  assert.deepEqual(got, data, "the Fast Open data resent after the SYN-ACK");
  assert.equal(peer.host.counter("tcp.fault"), 0);
  assert.ok((peer.info(80)!.cwnd ?? 0) > 0);
  t.value.close();
  peer.finish();
});

Deno.test("SYN-SENT review: simultaneous open (a SYN crossing ours) with no listing before: SYN-RECEIVED, then established; no fault", async () => {
  const peer = new Peer({ seed: 13 });
  const t = track(peer.stack.connect({ hostname: peer.addr, port: 80, ecn: true }));
  const syn = one(peer.take(), { flags: "SEW" });
  const answer = peer.send({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 7000,
    flags: "S",
    options: { mss: 1200 },
  });
  const synAck = one(answer.filter((s) => s.flags.includes("S")), {});
  assert.equal(synAck.ack, 7001);
  assert.equal(peer.info(80)!.state, "SYN-RECEIVED");
  peer.send({ srcPort: 80, dstPort: syn.srcPort, seq: 7001, ack: syn.seq + 1, flags: "." });
  await t.done;
  assert.ok(t.value !== undefined, String(t.error));
  const w = track(t.value.write(new Uint8Array(5000).fill(3)));
  const segs = peer.wait(ms(5)).filter((s) => s.payload.length > 0);
  await w.done;
  assert.ok((w.value ?? 0) > 0, String(w.error));
  assert.ok(segs.length > 0 && segs.every((s) => s.payload.length <= 1200));
  assert.equal(peer.host.counter("tcp.fault"), 0);
  t.value.close();
  peer.finish();
});
