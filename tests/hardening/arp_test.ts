/**
 * Issue 16, findings 2 and 4: ARP's pending queues are bounded in real bytes
 * per neighbour and per stack, and a flood of ARP requests cannot fill the
 * neighbour cache so that the stack cannot reach a new neighbour.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  arpPacket,
  checkArp,
  checkEthernet,
  ethernetFrame,
  framesMatching,
  type Host,
  icmpEcho,
  ipv4Packet,
  makeHost,
  ms,
  track,
} from "../_harness.ts";
import { SMALL_BUFFER_SIZE } from "../../stack/packet_pool.ts";

const US = "02:00:00:00:00:01";
const BROADCAST = "ff:ff:ff:ff:ff:ff";

function macOf(i: number): string {
  return `02:01:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${
    (i & 0xff).toString(16).padStart(2, "0")
  }`;
}

/** An echo request from `src` (on the link, never answering ARP) to us. */
function echoFrom(src: string, srcMac: string, sequence: number, to = "10.0.0.1"): Uint8Array {
  const icmp = icmpEcho({ identifier: 7, sequence });
  return ethernetFrame(
    { dst: US, src: srcMac, etherType: 0x0800 },
    ipv4Packet({ protocol: 1, src, dst: to }, icmp),
  );
}

function queuedBuffers(h: Host): number {
  return h.stack.neighbors().reduce((n, e) => n + e.queued, 0);
}

const isArpRequest = (targetIp: string) =>
  checkEthernet({ dst: BROADCAST, etherType: 0x0806 }, checkArp({ operation: 1, targetIp }));

Deno.test("arp queue per neighbour counts whole pooled buffers against queueBytes", () => {
  // 200 small echo replies to a neighbour that never answers: each sits in a
  // 2 KiB buffer, so 65,536 bytes hold 32 of them (before: 200, counted by
  // their 98-byte length).
  const h = makeHost({
    mac: US,
    addresses: ["10.0.0.1/24"],
    plugins: { arp: { queueBytes: 65_536 } },
  });
  for (let i = 0; i < 200; i++) h.inject(echoFrom("10.0.0.9", macOf(9), i));
  const n = h.stack.neighbors().find((e) => e.address === "10.0.0.9")!;
  assert.equal(n.queued, 65_536 / SMALL_BUFFER_SIZE);
  assert.equal(h.counter("arp.tx.queue_full"), 200 - n.queued);
  h.finish();
});

Deno.test("arp queues of all neighbours together stay within totalQueueBytes", () => {
  const h = makeHost({ mac: US, addresses: ["10.0.0.1/16"] });
  // Echo requests from 4,096 on-link sources that never answer ARP (before:
  // 4,096 buffers held, 1,048,576 with 256 each).
  for (let i = 0; i < 4096; i++) {
    h.inject(echoFrom(`10.0.${16 + (i >> 8)}.${i & 0xff}`, macOf(i), 1));
  }
  const held = queuedBuffers(h) * SMALL_BUFFER_SIZE;
  assert.ok(held <= 1_048_576, `${held} bytes queued`);
  assert.equal(queuedBuffers(h), 1_048_576 / SMALL_BUFFER_SIZE);
  assert.equal(h.counter("arp.tx.queue_total_full"), 4096 - queuedBuffers(h));
  h.finish();
});

Deno.test("arp totalQueueBytes drops the stack's oldest waiting packet first", () => {
  const h = makeHost({
    mac: US,
    addresses: ["10.0.0.1/24"],
    plugins: { arp: { totalQueueBytes: 2 * SMALL_BUFFER_SIZE } },
  });
  h.inject(echoFrom("10.0.0.7", macOf(7), 1));
  h.inject(echoFrom("10.0.0.8", macOf(8), 1));
  h.inject(echoFrom("10.0.0.9", macOf(9), 1));
  const queued = Object.fromEntries(h.stack.neighbors().map((e) => [e.address, e.queued]));
  assert.deepEqual(queued, { "10.0.0.7": 0, "10.0.0.8": 1, "10.0.0.9": 1 });
  assert.equal(h.counter("arp.tx.queue_total_full"), 1);
  h.finish();
});

/** The request of issue 16: 172.16.0.1 (off-subnet) asks for 10.0.0.2. */
const ISSUE_FRAME =
  "02000000000202010000000108060001080006040001020100000001ac1000010000000000000a000002";

function hexBytes(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

Deno.test("arp ignores a request from an off-subnet sender (the frame of issue 16)", () => {
  const h = makeHost({ mac: "02:00:00:00:00:02", addresses: ["10.0.0.2/24"] });
  assert.deepEqual(h.inject(hexBytes(ISSUE_FRAME)), []);
  assert.deepEqual(h.stack.neighbors(), []);
  assert.equal(h.counter("arp.rx.off_subnet"), 1);
  h.finish();
});

Deno.test("arp still reaches a new neighbour at once after 5,000 off-subnet requests", async () => {
  const h = makeHost({ mac: "02:00:00:00:00:02", addresses: ["10.0.0.2/24"] });
  const frame = hexBytes(ISSUE_FRAME);
  for (let i = 0; i < 5000; i++) {
    frame[31] = i >> 8; // sender IP 172.16.x.y
    frame[32] = i & 0xff;
    h.inject(frame);
  }
  assert.equal(h.stack.neighbors().length, 0);
  assert.equal(h.counter("arp.rx.off_subnet"), 5000);
  const p = track(h.stack.ping("10.0.0.9", { timeout: 10 }));
  h.runFor(0);
  assert.equal(framesMatching(h.take(), isArpRequest("10.0.0.9")).length, 1);
  h.runFor(ms(10));
  await p.done;
  h.finish();
});

Deno.test("arp still reaches a new neighbour at once after 5,000 on-link requests", async () => {
  const h = makeHost({ mac: US, addresses: ["10.0.0.1/16"] });
  for (let i = 0; i < 5000; i++) {
    const a = { operation: 1 as const, senderMac: macOf(i), targetIp: "10.0.0.1" };
    const frame = ethernetFrame(
      { dst: BROADCAST, src: macOf(i), etherType: 0x0806 },
      arpPacket({ ...a, senderIp: `10.0.${16 + (i >> 8)}.${i & 0xff}` }),
    );
    h.inject(frame);
  }
  const entries = h.stack.neighbors();
  assert.equal(entries.length, 4096); // maxEntries
  assert.ok(entries.every((e) => e.state === "STALE"), "unconfirmed entries are STALE");
  // Before: every entry REACHABLE, none evictable: cache.full and 15-45 s of
  // unreachability. Now the least recently used STALE entry makes room.
  const p = track(h.stack.ping("10.0.200.9", { timeout: 10 }));
  h.runFor(0);
  assert.equal(framesMatching(h.take(), isArpRequest("10.0.200.9")).length, 1);
  assert.equal(h.counter("arp.cache.full"), 0);
  h.runFor(ms(10));
  await p.done;
  h.finish();
});
