/**
 * An active open makes its congestion control once, at the SYN-ACK (which
 * gives the MSS), not also at connect() only to replace it: what may look
 * at it before then (`stack.sockets()`, an ICMP "fragmentation needed"
 * quoting the SYN) still works, and shows what it showed when one was made
 * at connect() for the default MSS.
 */
import assert from "node:assert/strict";
import { checksum, ipv4Packet } from "../_harness.ts";
import type { CongestionControl } from "../../mod.ts";
import { congestionPlugin, one, Peer, track } from "./_tcp.ts";

/** A fixed window of 10 segments; every construction is recorded with its MSS. */
function countingPlugin(made: number[]) {
  return congestionPlugin("counted", "test: records each construction", (mss, iw) => {
    made.push(mss);
    const cc: CongestionControl = {
      name: "counted",
      cwnd: iw * mss,
      ssthresh: Infinity,
      setMss() {},
      onAck() {},
      onCongestion() {},
      onTimeout() {},
    };
    return cc;
  });
}

Deno.test("tcp connect → the congestion control is made once, at the SYN-ACK, for the negotiated MSS", async () => {
  const made: number[] = [];
  const peer = new Peer({ extraPlugins: [countingPlugin(made)] });
  const t = track(
    peer.stack.connect({ hostname: peer.addr, port: 80, congestionControl: "counted" }),
  );
  const syn = one(peer.take(), { flags: "S" });
  assert.deepEqual(made, [], "none while the SYN waits for an answer");
  peer.send({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 1000,
    ack: syn.seq + 1,
    flags: "S.",
    options: { mss: 1200 },
  });
  await t.done;
  assert.ok(t.value !== undefined, String(t.error));
  assert.deepEqual(made, [1200], "one, for the peer's MSS");
  assert.equal(t.value.info().cwnd, 10);
  t.value.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT → sockets() shows the window of the default MSS, as when connect() made one", async () => {
  const made: number[] = [];
  const peer = new Peer({ extraPlugins: [countingPlugin(made)] });
  const t = track(
    peer.stack.connect({ hostname: peer.addr, port: 80, congestionControl: "counted" }),
  );
  const syn = one(peer.take(), { flags: "S" });
  const row = peer.info(80)!;
  assert.equal(row.state, "SYN-SENT");
  assert.equal(row.cc, "counted");
  assert.equal(row.cwnd, 10, "10 segments of 536 bytes over an MSS of 536");
  assert.deepEqual(made, [536], "made for the listing, for the default MSS");
  assert.deepEqual(peer.info(80), row, "and kept: a second listing makes none");
  assert.deepEqual(made, [536]);
  peer.send({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 1000,
    ack: syn.seq + 1,
    flags: "S.",
    options: { mss: 1400 },
  });
  await t.done;
  assert.deepEqual(made, [536, 1400], "the SYN-ACK's replaces it");
  assert.equal(peer.info(80)!.cwnd, 10);
  t.value!.close();
  peer.finish();
});

Deno.test("tcp SYN-SENT + ICMP fragmentation needed quoting the SYN → MSS lowered, no fault; the SYN-ACK then makes the congestion control", async () => {
  const made: number[] = [];
  const peer = new Peer({ extraPlugins: [countingPlugin(made)] });
  const t = track(
    peer.stack.connect({ hostname: peer.addr, port: 80, congestionControl: "counted" }),
  );
  peer.host.runFor(0);
  const synIp = peer.host.history.at(-1)!.bytes;
  const syn = one(peer.take(), { flags: "S" });
  const icmp = new Uint8Array(8 + 28);
  icmp[0] = 3; // destination unreachable
  icmp[1] = 4; // fragmentation needed
  new DataView(icmp.buffer).setUint16(6, 576);
  icmp.set(synIp.subarray(0, 28), 8);
  new DataView(icmp.buffer).setUint16(2, checksum(icmp));
  peer.sendRaw(ipv4Packet({ src: "10.0.0.254", dst: "10.0.0.1", protocol: 1 }, icmp));
  assert.equal(peer.counter("pmtu_updates"), 1);
  assert.equal(peer.host.counter("tcp.fault"), 0);
  assert.equal(peer.info(80)!.mss, 524, "576 − 40, less the timestamps the SYN offered");
  assert.deepEqual(made, [536], "made for the listing only");
  peer.send({
    srcPort: 80,
    dstPort: syn.srcPort,
    seq: 1000,
    ack: syn.seq + 1,
    flags: "S.",
    options: { mss: 1460 },
  });
  await t.done;
  assert.ok(t.value !== undefined, String(t.error));
  assert.deepEqual(made, [536, 1460], "the SYN-ACK's, for the MSS it negotiated");
  t.value.close();
  peer.finish();
});
